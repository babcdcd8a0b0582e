using System.Net;
using MaxMind.GeoIP2;
using MaxMind.GeoIP2.Exceptions;

namespace Mailroom.Core.Tracking;

/// <summary>Where an address is, as Postmark's <c>Geo</c> shows it. Empty strings when unknown.</summary>
public sealed record GeoFacts(string CountryIsoCode, string Country, string RegionIsoCode, string Region, string City, string Zip, string Coords)
{
    public static readonly GeoFacts None = new("", "", "", "", "", "", "");
}

/// <summary>
/// Geography of opens and clicks, only from a MaxMind City database the operator supplies (<c>--geoip-database</c>):
/// Mailroom ships no database and asks no service. Without one every answer is empty.
/// </summary>
public sealed class GeoLocator : IDisposable
{
    private readonly DatabaseReader? _reader;

    public GeoLocator(TrackingOptions options)
    {
        if (options.GeoIpDatabase is { Length: > 0 } path)
            _reader = new DatabaseReader(path); // memory-mapped, thread-safe; a missing or broken file fails the start
    }

    public bool Enabled => _reader is not null;

    public GeoFacts Locate(IPAddress? address)
    {
        if (_reader is null || address is null)
            return GeoFacts.None;
        try
        {
            if (!_reader.TryCity(address, out var city) || city is null)
                return GeoFacts.None;
            var region = city.MostSpecificSubdivision;
            var coords = city.Location.Latitude is { } lat && city.Location.Longitude is { } lon
                ? FormattableString.Invariant($"{lat},{lon}") : "";
            return new GeoFacts(city.Country.IsoCode ?? "", city.Country.Name ?? "", region.IsoCode ?? "", region.Name ?? "",
                city.City.Name ?? "", city.Postal.Code ?? "", coords);
        }
        catch (GeoIP2Exception)
        {
            return GeoFacts.None;
        }
    }

    public void Dispose() => _reader?.Dispose();
}
