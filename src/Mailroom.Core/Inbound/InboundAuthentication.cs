using System.Net;
using System.Net.Sockets;
using DnsClient;
using Mailroom.Contracts;
using Mailroom.Core.Identities;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Mailroom.Core.Inbound;

/// <summary>
/// What Mailroom checks of an inbound message on arrival, through its own resolver (<see cref="DnsLookup"/>): SPF of
/// the client address for the MAIL FROM domain (RFC 7208, the HELO name for the null sender), every DKIM signature
/// (RFC 6376, MimeKit's <see cref="DkimVerifier"/> with keys from DNS) and DMARC (RFC 7489: SPF or DKIM passing for a
/// domain aligned with the From domain, relaxed). Given to the customer as <c>Received-SPF</c> (RFC 7208 §9.1) and
/// <c>Authentication-Results</c> (RFC 8601) in the payload's <c>Headers</c>; nothing is refused on them.
/// </summary>
public sealed class InboundAuthentication(DnsLookup dns, PlatformSettings platform)
{
    public async Task<IReadOnlyList<InboundHeader>> CheckAsync(InboundMessage row, MimeMessage message, CancellationToken ct)
    {
        var mailFromDomain = DomainOf(row.MailFrom);
        var spfDomain = mailFromDomain.Length > 0 ? mailFromDomain : DnsLookup.HostName(row.Helo);
        var spf = IPAddress.TryParse(row.ClientIp, out var ip) && spfDomain.Length > 0
            ? await new SpfCheck(dns, ip).CheckAsync(spfDomain, ct)
            : "none";
        var dkim = await VerifyDkimAsync(message, ct);
        var fromDomain = DomainOf(message.From.Mailboxes.FirstOrDefault()?.Address ?? "");
        var dmarc = await DmarcAsync(fromDomain, spf == "pass" ? spfDomain : null, dkim.Where(d => d.Result == "pass").Select(d => d.Domain), ct);

        var sender = row.MailFrom.Length > 0 ? row.MailFrom : "postmaster@" + spfDomain;
        var spfComment = spf switch
        {
            "pass" => $"domain of {sender} designates {row.ClientIp} as permitted sender",
            "fail" or "softfail" => $"domain of {sender} does not designate {row.ClientIp} as permitted sender",
            _ => $"{spf} for {sender} from {row.ClientIp}",
        };
        var host = platform.InboundHost;
        var parts = new List<string> { $"spf={spf} smtp.mailfrom={(row.MailFrom.Length > 0 ? row.MailFrom : spfDomain)}" };
        parts.AddRange(dkim.Count == 0 ? ["dkim=none"] : dkim.Select(d => $"dkim={d.Result} header.d={d.Domain} header.s={d.Selector}"));
        parts.Add($"dmarc={dmarc} header.from={(fromDomain.Length > 0 ? fromDomain : "unknown")}");
        return
        [
            new("Received-SPF", $"{Capital(spf)} ({host}: {spfComment}) client-ip={row.ClientIp}; envelope-from=\"{row.MailFrom}\"; helo={row.Helo};"),
            new("Authentication-Results", $"{host}; " + string.Join(";\r\n\t", parts).Replace("\r\n\t", " ")),
        ];
    }

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    internal static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? "" : DnsLookup.HostName(address[(at + 1)..]);
    }

    private sealed record DkimOutcome(string Domain, string Selector, string Result);

    private async Task<List<DkimOutcome>> VerifyDkimAsync(MimeMessage message, CancellationToken ct)
    {
        var results = new List<DkimOutcome>();
        var verifier = new DkimVerifier(new DnsKeyLocator(dns)) { MinimumRsaKeyLength = 1024 };
        verifier.Enable(DkimSignatureAlgorithm.RsaSha1);
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature).Take(5))
        {
            var tags = Tags(header.Value);
            var domain = tags.GetValueOrDefault("d", "").ToLowerInvariant();
            var selector = tags.GetValueOrDefault("s", "");
            string result;
            try
            {
                result = await verifier.VerifyAsync(message, header, ct) ? "pass" : "fail";
            }
            catch (FormatException)
            {
                result = "permerror";
            }
            catch (DnsTemporaryException)
            {
                result = "temperror";
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // No key at the selector, a revoked or malformed key (RFC 6376 §6.1.2).
                result = "permerror";
            }
            results.Add(new DkimOutcome(domain, selector, result));
        }
        return results;
    }

    private static Dictionary<string, string> Tags(string value)
    {
        var tags = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in value.Split(';'))
        {
            var eq = part.IndexOf('=');
            if (eq > 0)
                tags[part[..eq].Trim()] = string.Concat(part[(eq + 1)..].Where(c => !char.IsWhiteSpace(c)));
        }
        return tags;
    }

    /// <summary>RFC 7489 §6.6.3: the policy at <c>_dmarc.&lt;From domain&gt;</c>, else at its organizational domain (Public
    /// Suffix List, <see cref="Mailroom.Mail.Addresses.OrganizationalDomain"/>); pass when an authenticated domain is aligned
    /// (relaxed, §3.1).</summary>
    private async Task<string> DmarcAsync(string fromDomain, string? spfDomain, IEnumerable<string> dkimDomains, CancellationToken ct)
    {
        if (fromDomain.Length == 0)
            return "none";
        var record = await DmarcRecordAsync(fromDomain, ct);
        if (record is null && Mailroom.Mail.Addresses.OrganizationalDomain.Of(fromDomain) is { } organizational && organizational != fromDomain)
            record = await DmarcRecordAsync(organizational, ct);
        if (record is null)
            return "none";
        var aligned = (spfDomain is not null && Aligned(spfDomain, fromDomain)) || dkimDomains.Any(d => Aligned(d, fromDomain));
        return aligned ? "pass" : "fail";
    }

    private async Task<string?> DmarcRecordAsync(string domain, CancellationToken ct)
    {
        var txt = await dns.TxtAsync("_dmarc." + domain, ct);
        return txt.Values.FirstOrDefault(v => v.TrimStart().StartsWith("v=DMARC1", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Relaxed alignment (RFC 7489 §3.1.1, §3.1.2): the same organizational domain.</summary>
    private static bool Aligned(string a, string b) =>
        string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
        || (Mailroom.Mail.Addresses.OrganizationalDomain.Of(a) is { } oa && oa == Mailroom.Mail.Addresses.OrganizationalDomain.Of(b));

    private sealed class DnsKeyLocator(DnsLookup dns) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            LocatePublicKeyAsync(methods, domain, selector, cancellationToken).GetAwaiter().GetResult();

        public override async Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default)
        {
            var answer = await dns.TxtAsync($"{selector}._domainkey.{domain}", cancellationToken);
            if (answer.Outcome == DnsOutcome.Failed)
                throw new DnsTemporaryException(answer.Detail);
            var txt = answer.Values.FirstOrDefault(v => v.Contains("p=", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"No DKIM key at {selector}._domainkey.{domain}.");
            return GetPublicKey(txt);
        }
    }

    private sealed class DnsTemporaryException(string message) : Exception(message);
}

/// <summary>
/// RFC 7208 check_host(): the SPF record of a domain evaluated for one client address, with the mechanisms all,
/// include, a, mx, ip4, ip6, exists and the redirect modifier, at most 10 DNS-querying terms (§4.6.4). Macros
/// (§7) are not expanded: a term that uses them is a permerror.
/// </summary>
internal sealed class SpfCheck(DnsLookup dns, IPAddress client)
{
    private int _lookups;

    public async Task<string> CheckAsync(string domain, CancellationToken ct)
    {
        try
        {
            return await CheckHostAsync(domain, 0, ct);
        }
        catch (SpfError e)
        {
            return e.Result;
        }
    }

    private sealed class SpfError(string result) : Exception(result)
    {
        public string Result { get; } = result;
    }

    private void CountLookup()
    {
        if (++_lookups > 10)
            throw new SpfError("permerror");
    }

    private async Task<string> CheckHostAsync(string domain, int depth, CancellationToken ct)
    {
        if (depth > 10)
            throw new SpfError("permerror");
        var txt = await dns.TxtAsync(domain, ct);
        if (txt.Outcome == DnsOutcome.Failed)
            return "temperror";
        var records = txt.Values.Where(v => v.Equals("v=spf1", StringComparison.OrdinalIgnoreCase)
            || v.StartsWith("v=spf1 ", StringComparison.OrdinalIgnoreCase)).ToList();
        if (records.Count == 0)
            return "none";
        if (records.Count > 1)
            return "permerror";
        string? redirect = null;
        foreach (var term in records[0].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            if (term.Contains('%'))
                throw new SpfError("permerror");
            if (term.StartsWith("redirect=", StringComparison.OrdinalIgnoreCase))
            {
                redirect = term[9..];
                continue;
            }
            if (term.Contains('=') && !term.Contains(':'))
                continue; // exp= and unknown modifiers
            var qualifier = term[0] is '+' or '-' or '~' or '?' ? term[0] : '+';
            var mech = qualifier == term[0] ? term[1..] : term;
            if (await MatchesAsync(mech, domain, depth, ct))
                return qualifier switch { '-' => "fail", '~' => "softfail", '?' => "neutral", _ => "pass" };
        }
        if (redirect is not null)
        {
            CountLookup();
            var r = await CheckHostAsync(redirect.ToLowerInvariant(), depth + 1, ct);
            return r == "none" ? "permerror" : r;
        }
        return "neutral";
    }

    private async Task<bool> MatchesAsync(string mech, string domain, int depth, CancellationToken ct)
    {
        var colon = mech.IndexOf(':');
        var name = (colon < 0 ? mech : mech[..colon]).ToLowerInvariant();
        var arg = colon < 0 ? null : mech[(colon + 1)..];
        // a/mx may carry a dual CIDR length (a/24//64): the IPv4 part is used for IPv4 clients.
        int? cidr = null;
        var slash = name.IndexOf('/');
        if (slash > 0)
        {
            cidr = ParseCidr(name[(slash + 1)..]);
            name = name[..slash];
        }
        if (arg is not null && arg.IndexOf('/') is var s && s > 0 && name is "a" or "mx")
        {
            cidr = ParseCidr(arg[(s + 1)..]);
            arg = arg[..s];
        }
        switch (name)
        {
            case "all":
                return true;
            case "ip4" or "ip6":
                return arg is not null && InNetwork(arg);
            case "include":
            {
                CountLookup();
                var r = await CheckHostAsync((arg ?? throw new SpfError("permerror")).ToLowerInvariant(), depth + 1, ct);
                return r switch
                {
                    "pass" => true,
                    "temperror" => throw new SpfError("temperror"),
                    "permerror" or "none" => throw new SpfError("permerror"),
                    _ => false,
                };
            }
            case "a":
                CountLookup();
                return await HostMatchesAsync(arg ?? domain, cidr, ct);
            case "mx":
            {
                CountLookup();
                var mx = await dns.MxAsync(arg ?? domain, ct);
                if (mx.Outcome == DnsOutcome.Failed)
                    throw new SpfError("temperror");
                foreach (var host in mx.Values.Take(10))
                    if (await HostMatchesAsync(host, cidr, ct))
                        return true;
                return false;
            }
            case "exists":
            {
                CountLookup();
                var a = await dns.AddressesAsync(arg ?? throw new SpfError("permerror"), ct);
                return a.Values.Count > 0;
            }
            case "ptr":
                return false; // RFC 7208 §5.5: SHOULD NOT be used; treated as not matching
            default:
                throw new SpfError("permerror");
        }
    }

    private static int? ParseCidr(string s) => int.TryParse(s.Split('/')[0], out var n) ? n : null;

    private async Task<bool> HostMatchesAsync(string host, int? cidr, CancellationToken ct)
    {
        if (client.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var aaaa = await dns.Query.QueryAsync(host, QueryType.AAAA, cancellationToken: ct);
            return aaaa.Answers.AaaaRecords().Any(r => InNetwork(r.Address, cidr ?? 128));
        }
        var a = await dns.AddressesAsync(host, ct);
        if (a.Outcome == DnsOutcome.Failed)
            throw new SpfError("temperror");
        return a.Values.Any(v => IPAddress.TryParse(v, out var ip) && InNetwork(ip, cidr ?? 32));
    }

    private bool InNetwork(string network)
    {
        var slash = network.IndexOf('/');
        var addr = slash < 0 ? network : network[..slash];
        if (!IPAddress.TryParse(addr, out var ip))
            throw new SpfError("permerror");
        var bits = slash < 0 ? (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
            : int.TryParse(network[(slash + 1)..], out var n) ? n : throw new SpfError("permerror");
        return InNetwork(ip, bits);
    }

    private bool InNetwork(IPAddress network, int bits)
    {
        var c = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        if (c.AddressFamily != network.AddressFamily)
            return false;
        var a = c.GetAddressBytes();
        var b = network.GetAddressBytes();
        bits = Math.Clamp(bits, 0, a.Length * 8);
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (b[i] & mask))
                return false;
        }
        return true;
    }
}
