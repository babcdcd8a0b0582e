using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Mailroom.Core.Dmarc;

/// <summary>What one week of a monitored domain's reports says, beside the week before.</summary>
public sealed record DmarcDigestSummary(
    string Domain,
    DateOnly WeekStart,
    DateOnly WeekEnd,
    int Reports,
    long Messages,
    long DmarcPass,
    long DkimPass,
    long SpfPass,
    long DmarcFail,
    long PreviousMessages,
    double? PreviousDmarcPassRate,
    IReadOnlyList<DmarcSourceGroup> Senders,
    IReadOnlyList<DmarcSource> NewUnknownSources)
{
    public double DmarcPassRate => Messages == 0 ? 0 : Math.Round((double)DmarcPass / Messages, 4);
}

/// <summary>
/// The weekly digest (issue 17 item 5): once a week, for every monitored domain, one email to its digest address,
/// sent through Mailroom's own outbound path like the token-recovery email, with the week's volume, pass rates, the
/// senders (as <see cref="DmarcSourcesReport"/> classifies them), unknown sources not seen in the four weeks before, and
/// the change from the week before. Weeks run Monday to Sunday, UTC, by the reports' <c>date_range</c> begin. A week's
/// digest goes out on the Monday after it, once: each domain's <see cref="DmarcDomain.LastDigestWeek"/> is claimed by a
/// conditional update before the email is queued (several nodes may run this). A crash between the claim and the
/// queue loses that week's digest rather than sending it twice.
/// </summary>
public sealed class DmarcDigest(MailroomDb db, DmarcSourcesReport sources, OutboundQueue queue, PlatformSettings platform, TimeProvider clock,
    ILogger<DmarcDigest> log)
{
    public const string Tag = "dmarc-digest";

    /// <summary>Unknown sources of the week that are "new": absent from this many weeks before it.</summary>
    public const int NewSourceLookbackWeeks = 4;

    /// <summary>The Monday (UTC) starting the week that holds <paramref name="day"/>.</summary>
    public static DateOnly WeekOf(DateOnly day) => day.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    /// <summary>Sends the digest of the last complete week for each domain that has not had it. Returns how many were queued.</summary>
    public async Task<int> SendDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var thisWeek = WeekOf(DateOnly.FromDateTime(now));
        var week = thisWeek.AddDays(-7);
        var weekStart = week.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var weekEnd = thisWeek.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        // Domains created after the week ended have nothing to say about it.
        var due = await db.DmarcDomains.AsNoTracking()
            .Where(d => d.CreatedAt < weekEnd && (d.LastDigestWeek == null || d.LastDigestWeek < weekStart))
            .OrderBy(d => d.Id).ToListAsync(ct);
        var sent = 0;
        foreach (var domain in due)
        {
            var claimed = await db.DmarcDomains
                .Where(d => d.Id == domain.Id && (d.LastDigestWeek == null || d.LastDigestWeek < weekStart))
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LastDigestWeek, weekStart), ct);
            if (claimed == 0) continue; // another node took it
            var summary = await SummarizeAsync(domain, week, ct);
            await queue.EnqueueAsync([Compose(domain, summary, platform, clock.GetUtcNow())], ct);
            log.LogInformation("DMARC digest for {Domain}, week of {Week}: {Messages} messages in {Reports} reports", domain.Domain,
                week, summary.Messages, summary.Reports);
            sent++;
        }
        return sent;
    }

    /// <summary>The digest's numbers for the week starting <paramref name="weekStart"/> (a Monday).</summary>
    public async Task<DmarcDigestSummary> SummarizeAsync(DmarcDomain domain, DateOnly weekStart, CancellationToken ct)
    {
        var weekEnd = weekStart.AddDays(6);
        var current = await sources.BuildAsync(domain, Day(weekStart), Day(weekEnd), null, null, ct);
        var start = Day(weekStart);
        var end = Day(weekEnd).AddDays(1);
        // The week before and the weeks before that need no classification, reverse DNS or send log: totals and the
        // set of source IPs come straight from the rows.
        var previous = await RowsBetween(domain, start.AddDays(-7), start)
            .GroupBy(x => 1)
            .Select(g => new { Count = g.Sum(x => x.Count), Pass = g.Sum(x => x.PolicyDkim == "pass" || x.PolicySpf == "pass" ? x.Count : 0) })
            .SingleOrDefaultAsync(ct);
        var seen = (await RowsBetween(domain, start.AddDays(-7 * NewSourceLookbackWeeks), start).Select(x => x.SourceIp).Distinct()
            .ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var reports = await db.DmarcReports.CountAsync(r => r.DomainId == domain.Id && r.DateRangeBegin >= start && r.DateRangeBegin < end, ct);
        long prevCount = previous?.Count ?? 0, prevPass = previous?.Pass ?? 0;
        return new DmarcDigestSummary(domain.Domain, weekStart, weekEnd, reports, current.TotalCount, current.Sources.Sum(s => s.DmarcPass),
            current.Sources.Sum(s => s.DkimPass), current.Sources.Sum(s => s.SpfPass), current.DmarcFailCount, prevCount,
            prevCount == 0 ? null : Math.Round((double)prevPass / prevCount, 4),
            current.Groups, current.Sources.Where(s => s.Classification == "unknown" && !seen.Contains(s.SourceIp)).ToList());
    }

    /// <summary>Rows of the domain's reports whose period begins in [<paramref name="from"/>, <paramref name="until"/>)
    /// (a report belongs to the day its period starts on, as everywhere else).</summary>
    private IQueryable<DmarcReportRow> RowsBetween(DmarcDomain domain, DateTime from, DateTime until) =>
        db.DmarcReports.AsNoTracking().Where(r => r.DomainId == domain.Id && r.DateRangeBegin >= from && r.DateRangeBegin < until)
            .Join(db.DmarcReportRows.AsNoTracking(), r => r.Id, x => x.ReportId, (r, x) => x);

    private static DateTime Day(DateOnly d) => d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);

    /// <summary>The digest email: a text part and an HTML part with the same numbers (the HTML escaped throughout: report
    /// fields come from strangers).</summary>
    public static QueuedMessage Compose(DmarcDomain record, DmarcDigestSummary s, PlatformSettings platform, DateTimeOffset now)
    {
        var from = new MailboxAddress("Mailroom DMARC", platform.PlatformDomain is { } d ? "dmarc@" + d : "no-reply@" + platform.MailDomain);
        var subject = $"DMARC weekly digest for {record.Domain}: {s.WeekStart:yyyy-MM-dd} to {s.WeekEnd:yyyy-MM-dd}";
        return PlatformEmail.Compose(platform, from, MailboxAddress.Parse(record.Email), subject, Tag,
            new BodyBuilder { TextBody = Text(s), HtmlBody = Html(s) }.ToMessageBody(), now);
    }

    private static string Percent(long part, long whole) =>
        whole == 0 ? "n/a" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Change(DmarcDigestSummary s)
    {
        if (s.PreviousMessages == 0) return "no reports the week before";
        var delta = s.Messages - s.PreviousMessages;
        var rate = s.PreviousDmarcPassRate is { } p
            ? $"; DMARC pass rate {(s.DmarcPassRate - p) * 100:+0.0;-0.0;0.0} points" : "";
        return $"{(delta >= 0 ? "+" : "")}{delta.ToString("N0", CultureInfo.InvariantCulture)} messages " +
               $"({s.PreviousMessages.ToString("N0", CultureInfo.InvariantCulture)} the week before){rate}";
    }

    internal static string Text(DmarcDigestSummary s)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"DMARC weekly digest for {s.Domain}, {s.WeekStart:yyyy-MM-dd} to {s.WeekEnd:yyyy-MM-dd} (UTC)\n\n");
        b.Append(CultureInfo.InvariantCulture, $"Reports received: {s.Reports}\n");
        b.Append(CultureInfo.InvariantCulture, $"Messages reported: {s.Messages:N0}\n");
        b.Append(CultureInfo.InvariantCulture, $"DMARC pass: {s.DmarcPass:N0} ({Percent(s.DmarcPass, s.Messages)})\n");
        b.Append(CultureInfo.InvariantCulture, $"DKIM pass: {s.DkimPass:N0} ({Percent(s.DkimPass, s.Messages)})\n");
        b.Append(CultureInfo.InvariantCulture, $"SPF pass: {s.SpfPass:N0} ({Percent(s.SpfPass, s.Messages)})\n");
        b.Append(CultureInfo.InvariantCulture, $"Would be quarantined or rejected under p=quarantine / p=reject: {s.DmarcFail:N0}\n");
        b.Append(CultureInfo.InvariantCulture, $"Change from the week before: {Change(s)}\n\n");
        b.Append("Senders:\n");
        if (s.Senders.Count == 0) b.Append("  (none reported)\n");
        foreach (var g in s.Senders)
            b.Append(CultureInfo.InvariantCulture,
                $"  {g.Name} [{g.Classification}]: {g.Count:N0} messages, DMARC pass {Percent(g.DmarcPass, g.Count)}{(g.DeliveredCount is { } dc ? $", delivered by Mailroom: {dc:N0}" : "")}\n");
        b.Append("\nNew unknown sources:\n");
        if (s.NewUnknownSources.Count == 0) b.Append("  (none)\n");
        foreach (var u in s.NewUnknownSources)
            b.Append(CultureInfo.InvariantCulture, $"  {u.SourceIp}{(u.Ptr is { } p ? " (" + p + ")" : "")}: {u.Count:N0} messages, DMARC pass {Percent(u.DmarcPass, u.Count)}\n");
        return b.ToString();
    }

    internal static string Html(DmarcDigestSummary s)
    {
        static string E(string? v) => WebUtility.HtmlEncode(v ?? "");
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"<h1>DMARC weekly digest for {E(s.Domain)}</h1><p>{s.WeekStart:yyyy-MM-dd} to {s.WeekEnd:yyyy-MM-dd} (UTC)</p>");
        b.Append("<table>");
        void Row(string k, string v) => b.Append(CultureInfo.InvariantCulture, $"<tr><th align=\"left\">{E(k)}</th><td>{E(v)}</td></tr>");
        Row("Reports received", s.Reports.ToString(CultureInfo.InvariantCulture));
        Row("Messages reported", s.Messages.ToString("N0", CultureInfo.InvariantCulture));
        Row("DMARC pass", $"{s.DmarcPass:N0} ({Percent(s.DmarcPass, s.Messages)})");
        Row("DKIM pass", $"{s.DkimPass:N0} ({Percent(s.DkimPass, s.Messages)})");
        Row("SPF pass", $"{s.SpfPass:N0} ({Percent(s.SpfPass, s.Messages)})");
        Row("Would be quarantined or rejected", s.DmarcFail.ToString("N0", CultureInfo.InvariantCulture));
        Row("Change from the week before", Change(s));
        b.Append("</table><h2>Senders</h2><table><tr><th>Sender</th><th>Kind</th><th>Messages</th><th>DMARC pass</th><th>Delivered by Mailroom</th></tr>");
        foreach (var g in s.Senders)
            b.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{E(g.Name)}</td><td>{E(g.Classification)}</td><td>{g.Count:N0}</td><td>{Percent(g.DmarcPass, g.Count)}</td><td>{(g.DeliveredCount is { } dc ? dc.ToString("N0", CultureInfo.InvariantCulture) : "")}</td></tr>");
        b.Append("</table><h2>New unknown sources</h2>");
        if (s.NewUnknownSources.Count == 0) b.Append("<p>None.</p>");
        else
        {
            b.Append("<ul>");
            foreach (var u in s.NewUnknownSources)
                b.Append(CultureInfo.InvariantCulture, $"<li>{E(u.SourceIp)}{(u.Ptr is { } p ? " (" + E(p) + ")" : "")}: {u.Count:N0} messages</li>");
            b.Append("</ul>");
        }
        return b.ToString();
    }
}
