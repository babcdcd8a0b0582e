using Mailroom.Core.Storage;

namespace Mailroom.Core.Stats;

/// <summary>One addition to a counter: <paramref name="Count"/> more of <paramref name="Metric"/> (and its
/// <paramref name="Key"/>) for a server, stream and tag on the day of <paramref name="At"/>.</summary>
public sealed record StatsIncrement(int ServerId, string Stream, string? Tag, DateTimeOffset At, StatsMetric Metric, string Key = "",
    MailboxProvider Provider = MailboxProvider.Other, long Count = 1)
{
    /// <summary>An increment whose provider is that of the recipient's domain (and of the MX host when one answered).</summary>
    public static StatsIncrement For(int serverId, string stream, string? tag, DateTimeOffset at, StatsMetric metric, string recipient,
        string key = "", string? mxHost = null) =>
        new(serverId, stream, tag, at, metric, key, MailboxProviders.Of(recipient, mxHost));
}

/// <summary>
/// Adds to the Stats API's counters (<c>stats_counters</c>) in the caller's transaction, so a counter moves exactly
/// when its event is committed: Preparation (sent, tracked), delivery outcomes (delivered, bounces), the bounce and
/// complaint recorder, and the tracking code (opens, clicks and their breakdowns). Increments of one call are summed
/// per counter first and written in one order (sorted by key), so concurrent transactions lock counter rows in the
/// same order and cannot deadlock on them. Each counter is one upsert (<c>INSERT … ON CONFLICT DO UPDATE</c>, on
/// SQLite and PostgreSQL alike) through <see cref="RowStatements"/>: plain SQL batched with the hot-path writes.
/// </summary>
public static class StatsCounters
{
    private const string Upsert =
        "INSERT INTO stats_counters (\"ServerId\", \"AllTags\", \"Day\", \"Metric\", \"Stream\", \"Tag\", \"Key\", \"Provider\", \"Count\") " +
        "VALUES (@ServerId, @AllTags, @Day, @Metric, @Stream, @Tag, @Key, @Provider, @Count) " +
        "ON CONFLICT (\"ServerId\", \"AllTags\", \"Day\", \"Metric\", \"Stream\", \"Tag\", \"Key\", \"Provider\") " +
        "DO UPDATE SET \"Count\" = stats_counters.\"Count\" + excluded.\"Count\"";

    /// <summary>Longest breakdown key kept (user-agent derived names); longer keys are cut.</summary>
    public const int MaxKeyLength = 100;

    /// <summary>Adds <paramref name="increments"/> in <paramref name="rows"/>' transaction (committed by its owner).</summary>
    public static async Task AddAsync(RowStatements rows, IEnumerable<StatsIncrement> increments, CancellationToken ct)
    {
        var summed = Sum(increments);
        if (summed.Count > 0)
            await rows.ExecuteEachAsync(Upsert, summed, (c, r) => r
                .Add("ServerId", c.ServerId).Add("AllTags", c.AllTags).Add("Day", c.Day).Add("Metric", (int)c.Metric).Add("Stream", c.Stream).Add("Tag", c.Tag)
                .Add("Key", c.Key).Add("Provider", (int)c.Provider).Add("Count", c.Count), ct);
    }

    /// <summary>Adds <paramref name="increments"/> in the context's current transaction (EF's, or one handed to EF with
    /// <c>UseTransaction</c>); refuses to run outside one, since a counter must not move without its event.</summary>
    public static async Task AddAsync(MailroomDb db, IEnumerable<StatsIncrement> increments, CancellationToken ct)
    {
        await using var rows = RowStatements.InCurrentTransaction(db);
        await AddAsync(rows, increments, ct);
    }

    /// <summary>Each increment counts twice: on its tag's row and on the all-tags roll-up of its stream.</summary>
    private static List<StatsCounter> Sum(IEnumerable<StatsIncrement> increments)
    {
        var sums = new Dictionary<(int, bool, int, StatsMetric, string, string, string, MailboxProvider), long>();
        foreach (var i in increments)
        {
            if (i.Count == 0)
                continue;
            var key = i.Key.Length > MaxKeyLength ? i.Key[..MaxKeyLength] : i.Key;
            var day = StatsCalendar.DayOf(i.At);
            var tagged = (i.ServerId, false, day, i.Metric, i.Stream, i.Tag ?? "", key, i.Provider);
            var all = (i.ServerId, true, day, i.Metric, i.Stream, "", key, i.Provider);
            sums[tagged] = sums.GetValueOrDefault(tagged) + i.Count;
            sums[all] = sums.GetValueOrDefault(all) + i.Count;
        }
        return sums
            .Select(s => new StatsCounter
            {
                ServerId = s.Key.Item1, AllTags = s.Key.Item2, Day = s.Key.Item3, Metric = s.Key.Item4, Stream = s.Key.Item5, Tag = s.Key.Item6,
                Key = s.Key.Item7, Provider = s.Key.Item8, Count = s.Value,
            })
            .OrderBy(c => c.ServerId).ThenBy(c => c.AllTags).ThenBy(c => c.Day).ThenBy(c => c.Metric).ThenBy(c => c.Stream, StringComparer.Ordinal)
            .ThenBy(c => c.Tag, StringComparer.Ordinal).ThenBy(c => c.Key, StringComparer.Ordinal).ThenBy(c => c.Provider)
            .ToList();
    }
}
