using System.Collections.Concurrent;
using System.Net;
using Mailroom.Core.Identities;

namespace Mailroom.Core.Dmarc;

/// <summary>
/// The reverse-DNS names of report source IPs, forward-confirmed (RFC 8601 §3's "iprev": a PTR name counts only when
/// it resolves back to the address, since anyone controlling an IP's reverse zone can name it "mail.google.com"), and
/// cached for <see cref="Lifetime"/>: a report page and "who sends as you" ask for the same few hundred IPs again and
/// again, and <see cref="DnsLookup"/> itself never caches. A failed lookup is not cached (the next page asks again);
/// "no name" is. One per process; bounded to <see cref="MaxEntries"/> names (cleared whole when full: it is only a cache).
/// </summary>
public sealed class DmarcPtrNames(DnsLookup dns, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(6);
    public const int MaxEntries = 50_000;

    private readonly ConcurrentDictionary<string, (string? Name, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    /// <summary>Names of <paramref name="ips"/> (only those that have a confirmed one), looked up 8 at a time.</summary>
    public async Task<Dictionary<string, string>> ResolveAsync(IEnumerable<string> ips, CancellationToken ct)
    {
        var found = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ips.Distinct(StringComparer.Ordinal), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (ip, token) =>
            {
                if (await NameOfAsync(ip, token) is { } name) found[ip] = name;
            });
        return new Dictionary<string, string>(found, StringComparer.Ordinal);
    }

    public async Task<string?> NameOfAsync(string ip, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(ip, out var hit) && hit.Expires > now) return hit.Name;
        if (!IPAddress.TryParse(ip, out var address)) return null;
        var ptr = await dns.PtrAsync(address, ct);
        if (ptr.Outcome == DnsOutcome.Failed) return null;
        string? confirmed = null;
        foreach (var name in ptr.Values.Take(3))
        {
            var back = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? await dns.Ipv6AddressesAsync(name, ct)
                : await dns.AddressesAsync(name, ct);
            if (back.Outcome == DnsOutcome.Failed) return null;
            if (back.Values.Any(v => IPAddress.TryParse(v, out var a) && a.Equals(address)))
            {
                confirmed = name;
                break;
            }
        }
        if (_cache.Count >= MaxEntries) _cache.Clear();
        _cache[ip] = (confirmed, now + Lifetime);
        return confirmed;
    }
}
