namespace Mailroom.Core.Tracking;

/// <summary>Open and click tracking settings of the install.</summary>
public sealed record TrackingOptions
{
    /// <summary>Base of tracking URLs (<c>{BaseUrl}/t/o/{token}</c>, <c>{BaseUrl}/t/c/{token}</c>): the public HTTP address by default.</summary>
    public string BaseUrl { get; init; } = "http://127.0.0.1:5080";
    /// <summary>A MaxMind GeoIP2/GeoLite2 City database supplied by the operator; none: no geography.</summary>
    public string? GeoIpDatabase { get; init; }
    /// <summary>Stream the open image to measure read time (<see cref="Mail.Tracking.ReadTime"/>). Off by default: each
    /// reader's mail client then holds a connection for up to 21 s, and the image is no longer answered at once.</summary>
    public bool ReadTime { get; init; }
    /// <summary>A click this soon after delivery is a link scanner's (mail gateways fetch every link on arrival).</summary>
    public TimeSpan ScannerClickWindow { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>An image proxy's fetch this soon after delivery is a prefetch on arrival, not a reader.</summary>
    public TimeSpan ProxyPrefetchWindow { get; init; } = TimeSpan.FromSeconds(60);

    public string PixelUrl(string token) => $"{BaseUrl.TrimEnd('/')}/t/o/{token}";
    public string ClickUrl(string token) => $"{BaseUrl.TrimEnd('/')}/t/c/{token}";
}
