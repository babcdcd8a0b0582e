using Mailroom.Contracts;
using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Dmarc;

/// <summary>
/// "Who sends as you": the rows of a domain's reports grouped by source IP, each classified as
/// <c>mailroom</c> — an address of this install's Return-Path host, which the platform's SPF record authorises
/// (<c>a:pm-bounces.&lt;domain&gt;</c>), so the addresses Mailroom delivers from — or <c>known</c> — a sending
/// service recognised by a DKIM or SPF domain it authenticated as (<see cref="KnownServices"/>) — or <c>unknown</c>.
/// DMARC pass means the reporter's evaluated DKIM or SPF passed (RFC 7489 §6.6.2: either aligned pass suffices).
/// </summary>
public sealed class DmarcSourcesReport(MailroomDb db, DnsLookup dns, PlatformSettings platform)
{
    /// <summary>Most rows read for one answer; older rows past it are left out (the newest reports count first).</summary>
    public const int MaxRows = 200_000;

    /// <summary>Domain suffixes of well-known sending services (DKIM d= or SPF domain they sign or bounce as).</summary>
    internal static readonly (string Suffix, string Service)[] KnownServices =
    [
        ("google.com", "Google"), ("googlemail.com", "Google"), ("gappssmtp.com", "Google Workspace"),
        ("outlook.com", "Microsoft 365"), ("protection.outlook.com", "Microsoft 365"), ("onmicrosoft.com", "Microsoft 365"),
        ("amazonses.com", "Amazon SES"), ("sendgrid.net", "SendGrid"), ("mailgun.org", "Mailgun"), ("mailgun.net", "Mailgun"),
        ("mcsv.net", "Mailchimp"), ("mcdlv.net", "Mailchimp"), ("mandrillapp.com", "Mandrill"), ("postmarkapp.com", "Postmark"),
        ("mtasv.net", "Postmark"), ("sparkpostmail.com", "SparkPost"), ("zoho.com", "Zoho"), ("zohomail.com", "Zoho"),
        ("salesforce.com", "Salesforce"), ("exacttarget.com", "Salesforce Marketing Cloud"), ("hubspotemail.net", "HubSpot"),
        ("zendesk.com", "Zendesk"), ("freshdesk.com", "Freshdesk"), ("fastmail.com", "Fastmail"), ("messagingengine.com", "Fastmail"),
        ("yahoo.com", "Yahoo"), ("icloud.com", "iCloud"), ("brevo.com", "Brevo"), ("sendinblue.com", "Brevo"),
    ];

    public async Task<DmarcSources> BuildAsync(DmarcDomain domain, DateTime? from, DateTime? to, string? fromText, string? toText,
        CancellationToken ct)
    {
        var reports = db.DmarcReports.AsNoTracking().Where(r => r.DomainId == domain.Id);
        if (from is { } f) reports = reports.Where(r => r.DateRangeBegin >= f);
        if (to is { } t) { var end = t.AddDays(1); reports = reports.Where(r => r.DateRangeBegin < end); }
        var rows = await reports
            .Join(db.DmarcReportRows.AsNoTracking(), r => r.Id, x => x.ReportId, (r, x) => new
            {
                r.OrganizationName, x.ReportId, x.SourceIp, x.SourceIpVersion, x.Count, x.PolicyDkim, x.PolicySpf, x.HeaderFrom, x.AuthResults,
            })
            .OrderByDescending(x => x.ReportId).Take(MaxRows).ToListAsync(ct);

        var ours = await DeliveryAddressesAsync(ct);
        var sources = rows.GroupBy(r => (r.SourceIp, r.SourceIpVersion)).Select(g =>
        {
            long count = 0, dmarc = 0, dkim = 0, spf = 0;
            string? service = null;
            foreach (var r in g)
            {
                count += r.Count;
                if (r.PolicyDkim == "pass") dkim += r.Count;
                if (r.PolicySpf == "pass") spf += r.Count;
                if (r.PolicyDkim == "pass" || r.PolicySpf == "pass") dmarc += r.Count;
                service ??= ServiceOf(DmarcAuthResults.FromJson(r.AuthResults), domain.Domain);
            }
            var classification = ours.Contains(g.Key.SourceIp) ? "mailroom" : service is not null ? "known" : "unknown";
            return new DmarcSource(g.Key.SourceIp, g.Key.SourceIpVersion, classification, classification == "known" ? service : null,
                count, dmarc, dkim, spf, count == 0 ? 0 : Math.Round((double)dmarc / count, 4),
                g.Select(r => r.HeaderFrom).Where(h => h.Length > 0).Distinct().Order().ToList(),
                g.Select(r => r.OrganizationName).Distinct().Order().ToList());
        }).OrderByDescending(s => s.Count).ThenBy(s => s.SourceIp, StringComparer.Ordinal).ToList();
        return new DmarcSources(fromText, toText, sources.Sum(s => s.Count), sources);
    }

    /// <summary>The addresses of the Return-Path host: what the platform's SPF authorises for the mail Mailroom sends.</summary>
    private async Task<HashSet<string>> DeliveryAddressesAsync(CancellationToken ct)
    {
        var answer = await dns.AddressesAsync(platform.ReturnPathHost, ct);
        return answer.Outcome == DnsOutcome.Found ? answer.Values.ToHashSet() : [];
    }

    /// <summary>The service a row authenticated as: the first DKIM or SPF domain (other than the customer's own)
    /// under a known service's domain.</summary>
    internal static string? ServiceOf(DmarcAuthResults auth, string customerDomain)
    {
        foreach (var d in auth.Dkim.Select(x => x.Domain).Concat(auth.Spf.Select(x => x.Domain)))
        {
            if (string.IsNullOrEmpty(d) || d == customerDomain || d.EndsWith("." + customerDomain, StringComparison.Ordinal)) continue;
            foreach (var (suffix, service) in KnownServices)
                if (d == suffix || d.EndsWith("." + suffix, StringComparison.Ordinal))
                    return service;
        }
        return null;
    }
}
