using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Mailroom.Core.Identities;

/// <summary>What a lookup found. Only <see cref="Failed"/> is inconclusive: the others are the DNS's answer.</summary>
public enum DnsOutcome { Found, NoRecords, NoSuchDomain, Failed }

/// <summary>A lookup's outcome, its values (TXT strings joined, host names without the trailing dot, addresses)
/// and, when nothing usable came back, why.</summary>
public sealed record DnsAnswer(DnsOutcome Outcome, IReadOnlyList<string> Values, string Detail)
{
    public bool IsDefinite => Outcome != DnsOutcome.Failed;
}

/// <summary>
/// Reads DNS through a recursive resolver: the system's (<c>/etc/resolv.conf</c>) or the one the <c>Dns</c> setting
/// names (tests run their own). Never caches: a customer who just published a record must see it found, and a
/// re-check must see a removed one gone. Never throws for DNS trouble: a timeout or SERVFAIL is
/// <see cref="DnsOutcome.Failed"/> with a reason. Thread-safe; one per process.
/// </summary>
public sealed class DnsLookup
{
    private readonly Lazy<LookupClient> _client;

    public DnsLookup(IPEndPoint? server, TimeSpan? timeout = null)
    {
        Server = server;
        // Lazy: reading the system's resolver configuration is deferred until a lookup is needed.
        _client = new Lazy<LookupClient>(() =>
        {
            var options = server is null ? new LookupClientOptions() : new LookupClientOptions(server);
            options.UseCache = false;
            options.Timeout = timeout ?? TimeSpan.FromSeconds(3);
            options.Retries = 1;
            options.UseTcpFallback = true; // a TXT answer over 512 bytes arrives truncated over UDP (RFC 1035 §4.2.1)
            options.ThrowDnsErrors = false;
            options.ContinueOnDnsError = false;
            return new LookupClient(options);
        });
    }

    /// <summary>The resolver in use, or null for the system's.</summary>
    public IPEndPoint? Server { get; }

    /// <summary>The underlying client, for lookups that need whole records (MX preferences for delivery).</summary>
    public IDnsQuery Query => _client.Value;

    /// <summary>"127.0.0.1:5353", "[::1]:53" or a bare address (port 53).</summary>
    public static IPEndPoint ParseServer(string value)
    {
        value = value.Trim();
        if (IPAddress.TryParse(value, out var bare))
            return new IPEndPoint(bare, 53);
        if (IPEndPoint.TryParse(value, out var endpoint))
            return endpoint.Port == 0 ? new IPEndPoint(endpoint.Address, 53) : endpoint;
        throw new FormatException($"'{value}' is not a DNS server address: use IP:PORT, e.g. 127.0.0.1:53.");
    }

    /// <summary>TXT records at <paramref name="name"/>, each record's character-strings joined into one value
    /// (RFC 7208 §3.3 and RFC 6376 §3.6.2.2: a value over 255 bytes is split into several strings).</summary>
    public Task<DnsAnswer> TxtAsync(string name, CancellationToken ct = default) =>
        QueryAsync(name, QueryType.TXT, r => r is TxtRecord txt ? string.Concat(txt.Text) : null, ct);

    /// <summary>The CNAME target at <paramref name="name"/>, lower case, without the trailing dot.</summary>
    public Task<DnsAnswer> CnameAsync(string name, CancellationToken ct = default) =>
        QueryAsync(name, QueryType.CNAME, r => r is CNameRecord c ? HostName(c.CanonicalName.Value) : null, ct);

    public Task<DnsAnswer> AddressesAsync(string name, CancellationToken ct = default) =>
        QueryAsync(name, QueryType.A, r => r is ARecord a ? a.Address.ToString() : null, ct);

    /// <summary>The PTR names of <paramref name="address"/> (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa), lower case
    /// without the trailing dot.</summary>
    public Task<DnsAnswer> PtrAsync(IPAddress address, CancellationToken ct = default) =>
        QueryAsync(address.GetArpaName(), QueryType.PTR, r => r is PtrRecord p ? HostName(p.PtrDomainName.Value) : null, ct);

    /// <summary>IPv6 addresses (AAAA) at <paramref name="name"/>.</summary>
    public Task<DnsAnswer> Ipv6AddressesAsync(string name, CancellationToken ct = default) =>
        QueryAsync(name, QueryType.AAAA, r => r is AaaaRecord a ? a.Address.ToString() : null, ct);

    /// <summary>MX hosts at <paramref name="name"/>, most preferred first.</summary>
    public async Task<DnsAnswer> MxAsync(string name, CancellationToken ct = default)
    {
        var preference = new Dictionary<string, int>();
        var answer = await QueryAsync(name, QueryType.MX, r =>
        {
            if (r is not MxRecord mx)
                return null;
            var host = HostName(mx.Exchange.Value);
            preference[host] = mx.Preference;
            return host;
        }, ct);
        return answer with { Values = answer.Values.OrderBy(h => preference.GetValueOrDefault(h)).ToList() };
    }

    public static string HostName(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    private async Task<DnsAnswer> QueryAsync(string name, QueryType type, Func<DnsResourceRecord, string?> select, CancellationToken ct)
    {
        name = HostName(name);
        try
        {
            var response = await _client.Value.QueryAsync(name, type, QueryClass.IN, ct);
            if (response.Header.ResponseCode == DnsHeaderResponseCode.NotExistentDomain)
                return new DnsAnswer(DnsOutcome.NoSuchDomain, [], $"{name} does not exist in DNS (NXDOMAIN).");
            if (response.HasError)
                return new DnsAnswer(DnsOutcome.Failed, [], $"The {type} lookup of {name} failed: {response.ErrorMessage}.");
            var values = response.Answers.Select(select).OfType<string>().ToList();
            return values.Count == 0
                ? new DnsAnswer(DnsOutcome.NoRecords, [], $"{name} has no {type} record.")
                : new DnsAnswer(DnsOutcome.Found, values, "");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // Timeouts (DnsResponseException), refused sockets, malformed answers: all mean "could not tell".
            return new DnsAnswer(DnsOutcome.Failed, [], $"The {type} lookup of {name} failed: {e.Message}");
        }
    }
}
