using System.Globalization;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Stats;

/// <summary>What a stats request asks for (spec §9): inclusive days of the stats calendar, a tag, a stream (null = all
/// streams) and, beyond Postmark, a recipient mailbox provider (null = all).</summary>
public sealed record StatsQuery(DateOnly? From, DateOnly? To, string? Tag, string? Stream, MailboxProvider? Provider = null);

/// <summary>
/// The Stats API (spec §9) over <c>stats_counters</c>: one grouped read of a server's counters for the days asked,
/// never a scan of messages, so a call costs the same at ten messages and at ten million. Totals are at the top level
/// and per day in <c>Days</c> (<c>[{Date, keys…}]</c>); days with nothing and keys that are zero are left out, as
/// Postmark does. Stats count per recipient.
/// </summary>
public sealed class StatsService(MailroomDb db)
{
    private sealed record Row(int Day, StatsMetric Metric, string Key, MailboxProvider Provider, long Count);

    /// <summary>Keys of one breakdown (a day or the totals), in the order they are first met.</summary>
    private sealed class Tally : Dictionary<string, long>
    {
        public void Plus(string key, long n)
        {
            if (n != 0)
                this[key] = (TryGetValue(key, out var had) ? had : 0) + n;
        }
    }

    /// <summary>The counters of the query summed per day (<paramref name="byDay"/>) or over the whole range (Day 0):
    /// the overview has no Days, so it is summed in the database and few rows come back.</summary>
    private async Task<List<Row>> ReadAsync(int serverId, StatsQuery q, StatsMetric[] metrics, CancellationToken ct, bool byDay = true)
    {
        if (q.From is { } f && q.To is { } t && f > t)
            throw new MailroomException(PostmarkErrors.StatsFromDateAfterToDate, "The 'fromdate' must not be later than the 'todate'.");
        if (q.Stream is { } stream && !await db.MessageStreams.AnyAsync(s => s.ServerId == serverId && s.StreamId == stream, ct))
            throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream for the provided 'ID' was not found: '{stream}'.");
        var rows = db.StatsCounters.AsNoTracking().Where(c => c.ServerId == serverId);
        if (q.From is { } from)
        {
            var day = StatsCalendar.Number(from);
            rows = rows.Where(c => c.Day >= day);
        }
        if (q.To is { } to)
        {
            var day = StatsCalendar.Number(to);
            rows = rows.Where(c => c.Day <= day);
        }
        // A tag reads that tag's rows; no tag reads the all-tags roll-up (one row per day, stream, provider and key).
        // (An equality on the flag, not a bare boolean test, so SQLite can use it as a key column of the primary key.)
        var allTags = q.Tag is null;
        rows = rows.Where(c => c.AllTags == allTags);
        if (q.Tag is { } tag)
            rows = rows.Where(c => c.Tag == tag);
        if (q.Stream is { } st)
            rows = rows.Where(c => c.Stream == st);
        if (q.Provider is { } p)
            rows = rows.Where(c => c.Provider == p);
        rows = rows.Where(c => metrics.Contains(c.Metric));
        if (!byDay)
            return (await rows.GroupBy(c => new { c.Metric, c.Key, c.Provider })
                    .Select(g => new { g.Key.Metric, g.Key.Key, g.Key.Provider, Count = g.Sum(c => c.Count) })
                    .ToListAsync(ct))
                .Select(g => new Row(0, g.Metric, g.Key, g.Provider, g.Count)).ToList();
        var grouped = await rows.GroupBy(c => new { c.Day, c.Metric, c.Key, c.Provider })
            .Select(g => new { g.Key.Day, g.Key.Metric, g.Key.Key, g.Key.Provider, Count = g.Sum(c => c.Count) })
            .ToListAsync(ct);
        return grouped.Select(g => new Row(g.Day, g.Metric, g.Key, g.Provider, g.Count)).OrderBy(r => r.Day).ToList();
    }

    /// <summary>A breakdown endpoint: every counter of <paramref name="metrics"/> named by <paramref name="name"/>
    /// (null = skip the row), summed per day and in total.</summary>
    private async Task<Dictionary<string, object>> BreakdownAsync(int serverId, StatsQuery q, StatsMetric[] metrics,
        Func<StatsMetric, string, string?> name, CancellationToken ct)
    {
        var rows = await ReadAsync(serverId, q, metrics, ct);
        var total = new Tally();
        var days = new List<Dictionary<string, object>>();
        foreach (var day in rows.GroupBy(r => r.Day))
        {
            var tally = new Tally();
            foreach (var r in day)
                if (name(r.Metric, r.Key) is { } key)
                {
                    tally.Plus(key, r.Count);
                    total.Plus(key, r.Count);
                }
            if (tally.Count == 0)
                continue;
            var entry = new Dictionary<string, object> { ["Date"] = StatsCalendar.FromNumber(day.Key).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
            foreach (var (k, v) in tally)
                entry[k] = v;
            days.Add(entry);
        }
        var result = new Dictionary<string, object> { ["Days"] = days };
        foreach (var (k, v) in total)
            result[k] = v;
        return result;
    }

    private static Func<StatsMetric, string, string?> Named(params (StatsMetric Metric, string Name)[] names) =>
        (metric, _) => names.FirstOrDefault(n => n.Metric == metric).Name;

    private static Func<StatsMetric, string, string?> ByKey(params string[]? allowed) =>
        (_, key) => key.Length == 0 ? null : allowed is { Length: > 0 } && !allowed.Contains(key) ? null : key;

    public Task<Dictionary<string, object>> SendsAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.Sent], Named((StatsMetric.Sent, "Sent")), ct);

    /// <summary>One key per bounce type present (the type's name, as in the Bounce API).</summary>
    public Task<Dictionary<string, object>> BouncesAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.Bounced], ByKey(), ct);

    public Task<Dictionary<string, object>> SpamAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.SpamComplaint], Named((StatsMetric.SpamComplaint, "SpamComplaint")), ct);

    public Task<Dictionary<string, object>> TrackedAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.Tracked], Named((StatsMetric.Tracked, "Tracked")), ct);

    public Task<Dictionary<string, object>> OpensAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.Opened, StatsMetric.UniqueOpen], Named((StatsMetric.Opened, "Opens"), (StatsMetric.UniqueOpen, "Unique")), ct);

    public Task<Dictionary<string, object>> OpenPlatformsAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.OpenPlatform], ByKey("Desktop", "WebMail", "Mobile", "Unknown"), ct);

    public Task<Dictionary<string, object>> EmailClientsAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.OpenClient], ByKey(), ct);

    public Task<Dictionary<string, object>> ReadTimesAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.OpenReadTime], ByKey(), ct);

    public Task<Dictionary<string, object>> ClicksAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.Clicked, StatsMetric.UniqueClick], Named((StatsMetric.Clicked, "Clicks"), (StatsMetric.UniqueClick, "Unique")), ct);

    public Task<Dictionary<string, object>> BrowserFamiliesAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.ClickBrowser], ByKey(), ct);

    public Task<Dictionary<string, object>> ClickPlatformsAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.ClickPlatform], ByKey("Desktop", "Mobile", "Unknown"), ct);

    public Task<Dictionary<string, object>> ClickLocationsAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.ClickLocation], ByKey("HTML", "Text"), ct);

    /// <summary>Beyond Postmark: first opens per country (ISO name from the operator's GeoIP database; none without one).</summary>
    public Task<Dictionary<string, object>> OpenCountriesAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.OpenCountry], ByKey(), ct);

    /// <summary>Beyond Postmark: first clicks of a link per country (as <see cref="OpenCountriesAsync"/>).</summary>
    public Task<Dictionary<string, object>> ClickCountriesAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        BreakdownAsync(serverId, q, [StatsMetric.ClickCountry], ByKey(), ct);

    private static readonly StatsMetric[] OverviewMetrics =
    [
        StatsMetric.Sent, StatsMetric.Bounced, StatsMetric.SpamComplaint, StatsMetric.Delivered, StatsMetric.Tracked, StatsMetric.WithOpenTracking,
        StatsMetric.WithLinkTracking, StatsMetric.TrackedLinksSent, StatsMetric.Opened, StatsMetric.UniqueOpen, StatsMetric.OpenPlatform,
        StatsMetric.OpenClient, StatsMetric.OpenReadTime, StatsMetric.Clicked, StatsMetric.UniqueClick,
    ];

    /// <summary><c>/stats/outbound</c>: the overview, totals only (no <c>Days</c>), every key present even when zero.</summary>
    public async Task<Dictionary<string, object>> OverviewAsync(int serverId, StatsQuery q, CancellationToken ct) =>
        Overview(await ReadAsync(serverId, q, OverviewMetrics, ct, byDay: false));

    /// <summary>Beyond Postmark: the overview per recipient mailbox provider (those with any counts), plus
    /// <c>Delivered</c>.</summary>
    public async Task<Dictionary<string, object>> ProvidersAsync(int serverId, StatsQuery q, CancellationToken ct)
    {
        var rows = await ReadAsync(serverId, q, OverviewMetrics, ct, byDay: false);
        var providers = new List<Dictionary<string, object>>();
        foreach (var provider in Enum.GetValues<MailboxProvider>())
        {
            var mine = rows.Where(r => r.Provider == provider).ToList();
            if (mine.Count == 0)
                continue;
            var o = new Dictionary<string, object> { ["Provider"] = provider.ToString() };
            foreach (var (k, v) in Overview(mine))
                o[k] = v;
            o["Delivered"] = mine.Where(r => r.Metric == StatsMetric.Delivered).Sum(r => r.Count);
            providers.Add(o);
        }
        return new Dictionary<string, object> { ["Providers"] = providers };
    }

    private static Dictionary<string, object> Overview(List<Row> rows)
    {
        long Sum(StatsMetric m, Func<string, bool>? key = null) => rows.Where(r => r.Metric == m && (key is null || key(r.Key))).Sum(r => r.Count);
        var sent = Sum(StatsMetric.Sent);
        // SMTP API errors are refusals at the API, reported apart from bounces of sent mail.
        var bounced = Sum(StatsMetric.Bounced, k => k != "SMTPApiError");
        var complaints = Sum(StatsMetric.SpamComplaint);
        return new Dictionary<string, object>
        {
            ["Sent"] = sent,
            ["Bounced"] = bounced,
            ["SMTPApiErrors"] = Sum(StatsMetric.Bounced, k => k == "SMTPApiError"),
            ["BounceRate"] = Rate(bounced, sent),
            ["SpamComplaints"] = complaints,
            ["SpamComplaintsRate"] = Rate(complaints, sent),
            ["Opens"] = Sum(StatsMetric.Opened),
            ["UniqueOpens"] = Sum(StatsMetric.UniqueOpen),
            ["Tracked"] = Sum(StatsMetric.Tracked),
            ["WithLinkTracking"] = Sum(StatsMetric.WithLinkTracking),
            ["WithOpenTracking"] = Sum(StatsMetric.WithOpenTracking),
            ["TotalTrackedLinksSent"] = Sum(StatsMetric.TrackedLinksSent),
            ["UniqueLinksClicked"] = Sum(StatsMetric.UniqueClick),
            ["TotalClicks"] = Sum(StatsMetric.Clicked),
            ["WithClientRecorded"] = Sum(StatsMetric.OpenClient, k => k is not ("" or "Unknown")),
            ["WithPlatformRecorded"] = Sum(StatsMetric.OpenPlatform, k => k is not ("" or "Unknown")),
            ["WithReadTimeRecorded"] = Sum(StatsMetric.OpenReadTime, k => k.Length > 0),
        };
    }

    /// <summary>A percentage with three decimals, as Postmark shows rates (e.g. 10.406); 0 when nothing was sent.</summary>
    private static double Rate(long part, long whole) => whole == 0 ? 0 : Math.Round(100.0 * part / whole, 3);
}
