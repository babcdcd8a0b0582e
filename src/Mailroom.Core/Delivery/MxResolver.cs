using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Mailroom.Core.Delivery;

/// <summary>One host to try for a domain, in preference order, with its addresses.</summary>
public sealed record MxHost(string Name, int Preference, IReadOnlyList<IPAddress> Addresses);

/// <summary>The outcome of resolving where a domain's mail goes.</summary>
public sealed record MxResolution(IReadOnlyList<MxHost> Hosts, string? TransientError, string? PermanentError);

/// <summary>
/// Finds the hosts that accept mail for a domain (RFC 5321 §5.1): MX records by preference (equal preferences
/// shuffled); no MX but an address record → the domain itself (the implicit MX); a null MX (RFC 7505) or
/// NXDOMAIN → permanent failure; a DNS timeout or SERVFAIL → transient.
/// </summary>
public sealed class MxResolver(Mailroom.Core.Identities.DnsLookup lookup)
{
    private IDnsQuery dns => lookup.Query;

    public async Task<MxResolution> ResolveAsync(string domain, CancellationToken ct)
    {
        IDnsQueryResponse mx;
        try
        {
            mx = await dns.QueryAsync(domain, QueryType.MX, QueryClass.IN, ct);
        }
        catch (DnsResponseException e)
        {
            return Transient($"DNS lookup of MX for {domain} failed: {e.Message}");
        }
        if (mx.HasError)
        {
            return mx.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain
                ? new([], null, $"Domain {domain} does not exist (NXDOMAIN)")
                : Transient($"DNS lookup of MX for {domain} failed: {mx.ErrorMessage}");
        }
        var records = mx.Answers.MxRecords().ToList();
        if (records.Count == 1 && records[0].Exchange.Value is "." or "")
            return new([], null, $"Domain {domain} accepts no mail (null MX, RFC 7505)");
        var names = records.Count == 0
            ? [(Name: domain, Preference: 0)]
            : records.GroupBy(r => r.Preference).OrderBy(g => g.Key)
                .SelectMany(g => g.OrderBy(_ => Random.Shared.Next()).Select(r => (Name: r.Exchange.Value.TrimEnd('.'), Preference: (int)r.Preference)))
                .ToList();
        var hosts = new List<MxHost>();
        string? lastError = null;
        foreach (var (name, pref) in names)
        {
            try
            {
                var addresses = await ResolveAddressesAsync(name, ct);
                if (addresses.Count > 0)
                    hosts.Add(new MxHost(name, pref, addresses));
                else
                    lastError = $"MX host {name} has no address";
            }
            catch (DnsResponseException e)
            {
                lastError = $"DNS lookup of {name} failed: {e.Message}";
            }
        }
        if (hosts.Count > 0)
            return new(hosts, null, null);
        return records.Count == 0
            ? new([], null, $"Domain {domain} has no MX and no address record")
            : Transient(lastError ?? $"No MX host of {domain} could be resolved");
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveAddressesAsync(string host, CancellationToken ct)
    {
        if (IPAddress.TryParse(host, out var literal))
            return [literal];
        var a = await dns.QueryAsync(host, QueryType.A, QueryClass.IN, ct);
        var list = a.Answers.ARecords().Select(r => r.Address).ToList();
        if (list.Count == 0)
        {
            var aaaa = await dns.QueryAsync(host, QueryType.AAAA, QueryClass.IN, ct);
            list.AddRange(aaaa.Answers.AaaaRecords().Select(r => r.Address));
        }
        return list;
    }

    private static MxResolution Transient(string error) => new([], error, null);
}
