using Mailroom.Contracts;
using Mailroom.Core.Identities;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Dmarc;

/// <summary>
/// "Who sends as you": the rows of a domain's reports grouped by source IP, each IP named by its forward-confirmed PTR
/// and that name's organizational domain, and classified, in this order, as
/// <list type="bullet">
/// <item><c>mailroom</c>: an address of this install's Return-Path host, which the platform's SPF record authorises
/// (<c>a:pm-bounces.&lt;domain&gt;</c>), so the addresses Mailroom delivers from;</item>
/// <item><c>known</c> or <c>forwarder</c>: an entry of <see cref="KnownSenders"/> matched by a DKIM or SPF domain the
/// rows authenticated as, or by the PTR name;</item>
/// <item><c>forwarder</c> also when the reporter said so (a policy override of type <c>forwarded</c>,
/// <c>mailing_list</c> or <c>trusted_forwarder</c>, RFC 7489 Appendix C), or when every message from the IP carried a
/// passing DKIM signature of the domain while SPF, still checked for the domain's own envelope sender, failed:
/// forwarding keeps the signature and the envelope and breaks SPF (RFC 7960 §3.2.1);</item>
/// <item><c>unknown</c> otherwise.</item>
/// </list>
/// DMARC pass means the reporter's evaluated DKIM or SPF passed (RFC 7489 §6.6.2: either aligned pass suffices); the
/// rest (<c>dmarc_fail</c>) is what <c>p=quarantine</c> would send to spam and <c>p=reject</c> would refuse (at
/// <c>pct=100</c>). The <c>mailroom</c> group also carries what Mailroom's own send log says it delivered from the
/// domain in the reports' window, once the domain's DMARC record sends its reports here (so no one learns another
/// domain's volume by creating a record for it).
/// </summary>
public sealed class DmarcSourcesReport(MailroomDb db, DnsLookup dns, PlatformSettings platform, DmarcService dmarc, DmarcPtrNames ptrNames)
{
    /// <summary>Most rows read for one answer; older rows past it are left out (the newest reports count first).</summary>
    public const int MaxRows = 200_000;

    /// <summary>Source IPs given a PTR lookup (the largest first); the rest are named by their address only.</summary>
    public const int MaxPtrLookups = 100;

    private static readonly HashSet<string> ForwardingOverrides = new(StringComparer.OrdinalIgnoreCase)
        { "forwarded", "mailing_list", "trusted_forwarder" };

    public async Task<DmarcSources> BuildAsync(DmarcDomain domain, DateTime? from, DateTime? to, string? fromText, string? toText,
        CancellationToken ct)
    {
        var reports = db.DmarcReports.AsNoTracking().Where(r => r.DomainId == domain.Id);
        if (from is { } f) reports = reports.Where(r => r.DateRangeBegin >= f);
        if (to is { } t) { var end = t.AddDays(1); reports = reports.Where(r => r.DateRangeBegin < end); }
        var rows = await reports
            .Join(db.DmarcReportRows.AsNoTracking(), r => r.Id, x => x.ReportId, (r, x) => new
            {
                r.OrganizationName, r.DateRangeBegin, r.DateRangeEnd, x.ReportId, x.SourceIp, x.SourceIpVersion, x.Count, x.PolicyDkim,
                x.PolicySpf, x.ReasonType, x.HeaderFrom, x.AuthResults,
            })
            .OrderByDescending(x => x.ReportId).Take(MaxRows)
            .Select(x => new SourceRow(x.OrganizationName, x.DateRangeBegin, x.DateRangeEnd, x.ReportId, x.SourceIp, x.SourceIpVersion, x.Count,
                x.PolicyDkim, x.PolicySpf, x.ReasonType, x.HeaderFrom, x.AuthResults))
            .ToListAsync(ct);

        var ours = await DeliveryAddressesAsync(ct);
        var byIp = rows.GroupBy(r => (r.SourceIp, r.SourceIpVersion)).Select(g => (g.Key, Rows: g.ToList(), Count: g.Sum(r => r.Count)))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Key.SourceIp, StringComparer.Ordinal).ToList();
        var names = await ptrNames.ResolveAsync(byIp.Take(MaxPtrLookups).Select(g => g.Key.SourceIp).Where(ip => !ours.Contains(ip)), ct);

        var sources = byIp.Select(g => Describe(g.Key.SourceIp, g.Key.SourceIpVersion, g.Rows, domain.Domain, ours,
            names.GetValueOrDefault(g.Key.SourceIp))).ToList();

        var groups = sources.GroupBy(s => (s.Classification, Name: s.Service ?? s.OrganizationalDomain ?? s.SourceIp))
            .Select(g => new DmarcSourceGroup(g.Key.Classification, g.Key.Name, g.Select(s => s.SourceIp).ToList(), g.Sum(s => s.Count),
                g.Sum(s => s.DmarcPass), g.Sum(s => s.DmarcFail), g.Sum(s => s.DkimPass), g.Sum(s => s.SpfPass),
                Rate(g.Sum(s => s.DmarcPass), g.Sum(s => s.Count)), null))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Name, StringComparer.Ordinal).ToList();

        long? delivered = null;
        var mailroomReported = sources.Where(s => s.Classification == "mailroom").Sum(s => s.Count);
        if (rows.Count > 0 && (await dmarc.VerifyAsync(domain, ct)).Verified)
        {
            delivered = await DeliveredAsync(domain.Domain, domain.AccountId, rows.Min(r => r.Begin), rows.Max(r => r.End), ct);
            groups = groups.Select(g => g.Classification == "mailroom" ? g with { DeliveredCount = delivered } : g).ToList();
        }

        return new DmarcSources(fromText, toText, sources.Sum(s => s.Count), sources.Sum(s => s.DmarcFail), mailroomReported, delivered,
            groups, sources);
    }

    private sealed record SourceRow(string OrganizationName, DateTime Begin, DateTime End, long ReportId, string SourceIp, int SourceIpVersion,
        long Count, string PolicyDkim, string PolicySpf, string ReasonType, string HeaderFrom, string AuthResults);

    private static DmarcSource Describe(string ip, int version, List<SourceRow> rows, string customerDomain, HashSet<string> ours, string? ptr)
    {
        long count = 0, dmarcPass = 0, dkim = 0, spf = 0;
        KnownSender? byAuth = null;
        var overridden = false;
        var dkimOnly = true;
        foreach (var r in rows)
        {
            count += r.Count;
            if (r.PolicyDkim == "pass") dkim += r.Count;
            if (r.PolicySpf == "pass") spf += r.Count;
            if (r.PolicyDkim == "pass" || r.PolicySpf == "pass") dmarcPass += r.Count;
            var auth = DmarcAuthResults.FromJson(r.AuthResults);
            if (!(r.PolicyDkim == "pass" && r.PolicySpf != "pass" && EnvelopeFailedAsCustomer(auth, customerDomain))) dkimOnly = false;
            overridden |= r.ReasonType.Split(',').Any(t => ForwardingOverrides.Contains(t.Trim()));
            byAuth ??= SenderOf(auth, customerDomain);
        }
        var sender = byAuth ?? KnownSenders.Match(ptr);
        string classification;
        if (ours.Contains(ip)) classification = "mailroom";
        else if (sender is { Kind: KnownSender.Service }) classification = "known";
        else if (sender is { Kind: KnownSender.Forwarder } || overridden || (dkimOnly && count > 0)) classification = "forwarder";
        else classification = "unknown";
        var service = classification is "known" or "forwarder" ? sender?.Name : null;
        return new DmarcSource(ip, version, classification, service, ptr, OrganizationalDomain.Of(ptr), count, dmarcPass, count - dmarcPass,
            dkim, spf, Rate(dmarcPass, count),
            rows.Select(r => r.HeaderFrom).Where(h => h.Length > 0).Distinct().Order().ToList(),
            rows.Select(r => r.OrganizationName).Distinct().Order().ToList());
    }

    /// <summary>The envelope sender was still the customer's domain and SPF did not authorise the IP: what plain
    /// forwarding looks like (the forwarder relays the message unchanged, from its own address).</summary>
    private static bool EnvelopeFailedAsCustomer(DmarcAuthResults auth, string customerDomain) =>
        auth.Spf.Count > 0 && auth.Spf.All(s => s.Result != "pass" && s.Domain is { } d
            && (d.Equals(customerDomain, StringComparison.OrdinalIgnoreCase) || d.EndsWith("." + customerDomain, StringComparison.OrdinalIgnoreCase)));

    private static double Rate(long part, long whole) => whole == 0 ? 0 : Math.Round((double)part / whole, 4);

    /// <summary>The addresses of the Return-Path host: what the platform's SPF authorises for the mail Mailroom sends.</summary>
    private async Task<HashSet<string>> DeliveryAddressesAsync(CancellationToken ct)
    {
        var answer = await dns.AddressesAsync(platform.ReturnPathHost, ct);
        return answer.Outcome == DnsOutcome.Found ? answer.Values.ToHashSet() : [];
    }

    /// <summary>
    /// Recipients Mailroom delivered mail to from <paramref name="domain"/> or its subdomains (relaxed alignment, RFC 7489
    /// §3.1) between <paramref name="begin"/> and <paramref name="end"/>, by the send log: Delivered events of messages
    /// whose From is at the domain, across every server (the domain is one sender, whichever customer folder sends). A
    /// record monitored from an account's side counts that account's mail only: another account may send as a domain of
    /// the same name, and tenants never see each other's volume.
    /// </summary>
    private async Task<long> DeliveredAsync(string domain, int? accountId, DateTime begin, DateTime end, CancellationToken ct)
    {
        var from = new DateTimeOffset(DateTime.SpecifyKind(begin, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        var until = new DateTimeOffset(DateTime.SpecifyKind(end, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        string exact = "@" + domain, exactClosed = "@" + domain + ">", sub = "." + domain, subClosed = "." + domain + ">";
        return await db.MessageEvents.AsNoTracking()
            .Where(e => e.Type == MessageEventType.Delivered && e.At >= from && e.At <= until)
            .Join(db.OutboundMessages.AsNoTracking().Where(m => accountId == null || m.AccountId == accountId), e => e.MessageId, m => m.Id,
                (e, m) => m.From)
            .CountAsync(f => f.EndsWith(exact) || f.EndsWith(exactClosed) || f.EndsWith(sub) || f.EndsWith(subClosed), ct);
    }

    /// <summary>The service or forwarder a row authenticated as: the first DKIM or SPF domain (other than the customer's
    /// own) that <see cref="KnownSenders"/> knows.</summary>
    internal static KnownSender? SenderOf(DmarcAuthResults auth, string customerDomain)
    {
        foreach (var d in auth.Dkim.Select(x => x.Domain).Concat(auth.Spf.Select(x => x.Domain)))
        {
            if (string.IsNullOrEmpty(d) || d == customerDomain || d.EndsWith("." + customerDomain, StringComparison.Ordinal)) continue;
            if (KnownSenders.Match(d) is { } sender)
                return sender;
        }
        return null;
    }
}
