using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Inbound;

/// <summary>
/// Which server an envelope recipient belongs to (RFC 5321 §3.6.2: the MX accepts only its own mailboxes, so it is
/// no open relay and sends no backscatter): <c>&lt;InboundHash&gt;[+hash]@&lt;inbound host&gt;</c>, or any address at a
/// server's <c>InboundDomain</c> whose MX points at the inbound host, checked through Mailroom's resolver (the one the
/// domain checks use). A domain whose MX is elsewhere is not ours to receive.
/// </summary>
public sealed class InboundRecipients(MailroomDb db, PlatformSettings platform, DnsLookup dns)
{
    public bool IsInboundHost(string host) => string.Equals(DnsLookup.HostName(host), DnsLookup.HostName(platform.InboundHost), StringComparison.Ordinal);

    /// <summary>The server the address delivers to, or null.</summary>
    public async Task<int?> ServerOfAsync(string address, CancellationToken ct)
    {
        var at = address.LastIndexOf('@');
        if (at <= 0 || at == address.Length - 1)
            return null;
        var local = address[..at];
        var host = DnsLookup.HostName(address[(at + 1)..]);
        if (IsInboundHost(host))
        {
            var plus = local.IndexOf('+');
            var hash = (plus < 0 ? local : local[..plus]).ToLowerInvariant();
            if (hash.Length == 0)
                return null;
            var id = await db.Servers.AsNoTracking().Where(s => s.InboundHash == hash).Select(s => (int?)s.Id).FirstOrDefaultAsync(ct);
            return id;
        }
        var server = await db.Servers.AsNoTracking().Where(s => s.InboundDomain == host).Select(s => (int?)s.Id).FirstOrDefaultAsync(ct);
        if (server is null)
            return null;
        var mx = await dns.MxAsync(host, ct);
        if (mx.Outcome == DnsOutcome.Failed)
            throw new InboundDnsUnavailableException($"The MX of {host} could not be looked up: {mx.Detail}");
        return mx.Values.Contains(DnsLookup.HostName(platform.InboundHost)) ? server : null;
    }

    /// <summary>Whether the host is one Mailroom receives inbound mail for (the inbound host or some server's domain):
    /// an unknown mailbox there is "no such user" (550 5.1.1) rather than "relaying denied".</summary>
    public async Task<bool> IsInboundDomainAsync(string host, CancellationToken ct)
    {
        host = DnsLookup.HostName(host);
        return IsInboundHost(host) || await db.Servers.AsNoTracking().AnyAsync(s => s.InboundDomain == host, ct);
    }
}

/// <summary>The resolver could not answer whether a domain's MX points here: the sender should try again later
/// (RFC 5321 §4.2.1, 451), not be told the mailbox does not exist.</summary>
public sealed class InboundDnsUnavailableException(string message) : Exception(message);
