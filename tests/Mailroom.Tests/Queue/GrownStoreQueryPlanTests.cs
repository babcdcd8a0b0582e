using System.Data.Common;
using Mailroom.Core;
using Mailroom.Core.Queue;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Mailroom.Tests.Queue;

/// <summary>
/// Queries that must stay lookups as the store grows (issue 18, bench `grown`): SQLite's plan (EXPLAIN QUERY PLAN) of
/// the statements Mailroom itself sends, captured as it runs them on a migrated store. SQLite has no statistics here
/// (Mailroom never runs ANALYZE), so the plan follows the indexes alone, as on a real store.
/// </summary>
public sealed class GrownStoreQueryPlanTests
{
    [Fact]
    public async Task RetentionChecksPendingDeliveriesOfEachMessageThroughTheMessageIndex()
    {
        var plans = await PlansAsync(db => new MessageRetention(db, new PlatformSettings(), TimeProvider.System).PurgeAsync());
        // Before: SEARCH d USING INDEX IX_deliveries_State_NextAttemptAt (State=?), every pending delivery per message.
        Assert.Contains(plans, p => p.Contains("SEARCH d USING COVERING INDEX IX_deliveries_MessageId_State (MessageId=? AND State=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plans, p => p.Contains("IX_deliveries_State_NextAttemptAt", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MessageSearchByTagUsesTheTagIndexForTheCountAndThePage()
    {
        var search = new MessageSearch(new Paging(50, 0), null, null, "welcome", null, null, null, null, "outbound", null);
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, search, CancellationToken.None),
            db => SeedAsync(db, 1, _ => "app@example.org", tag: "welcome"));
        Assert.Equal(2, plans.Count(p => p.Contains("IX_outbound_messages_ServerId_Stream_Tag_ReceivedAt (ServerId=? AND Stream=? AND Tag=?)", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("recipient")]
    [InlineData("fromemail")]
    [InlineData("subject")]
    public async Task MessageSearchBySubstringCountsFromTheTrigramIndexAndPagesARareTermThroughIt(string filter)
    {
        var term = "user42@example.net";
        // One old match behind more non-matching messages than the walk reads.
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, Search(filter, term), CancellationToken.None),
            db => SeedAsync(db, MessageLog.MinWalkRows + 1, i => i == MessageLog.MinWalkRows ? term : $"other{i}@example.org"));
        // (fromemail: the stream's senders are read first; with more distinct senders than the bound, the trigram index answers.)
        plans = plans.Where(p => !IsSenderScan(p)).ToList();
        // The count and the page: the FTS table's matches, each looked up by rowid. Before this index: SCAN (or SEARCH
        // by server and stream of) every message of the stream, testing instr(lower(...)).
        Assert.True(plans.Count == 2, string.Join("\n---\n", plans));
        foreach (var plan in plans)
        {
            Assert.Contains("SCAN outbound_message_search VIRTUAL TABLE INDEX", plan, StringComparison.Ordinal);
            Assert.Contains("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", plan, StringComparison.Ordinal);
            // The rows above the search index's cursor: a rowid range, not every row of the stream by its index.
            Assert.Contains("SEARCH m USING INTEGER PRIMARY KEY (rowid>?)", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("SEARCH m USING INDEX", plan, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(plans, ScansAMessageTable);
    }

    [Theory]
    [InlineData("recipient")]
    [InlineData("fromemail")]
    [InlineData("subject")]
    public async Task MessageSearchBySubstringPagesAFrequentTermByWalkingOnlyTheNewestRows(string filter)
    {
        var term = "shop@example.net";
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, Search(filter, term), CancellationToken.None),
            db => SeedAsync(db, 2 * MessageLog.MinWalkRows, i => i % 2 == 0 ? term : $"other{i}@example.org"));
        // (fromemail: the stream's senders are read first; with more distinct senders than the bound, the trigram index answers.)
        plans = plans.Where(p => !IsSenderScan(p)).ToList();
        Assert.True(plans.Count == 3, string.Join("\n---\n", plans));
        Assert.Contains("SCAN outbound_message_search VIRTUAL TABLE INDEX", plans[0], StringComparison.Ordinal);
        // Before: the page read every match through the FTS table and sorted them. Now the window's edge from the index
        // alone, then the window (a range of the same index, walked backwards, stopping at the page's last match).
        Assert.Contains("USING COVERING INDEX IX_outbound_messages_ServerId_Stream_ReceivedAt (ServerId=? AND Stream=?)", plans[1], StringComparison.Ordinal);
        Assert.Contains("USING INDEX IX_outbound_messages_ServerId_Stream_ReceivedAt (ServerId=? AND Stream=? AND ReceivedAt>?)", plans[2], StringComparison.Ordinal);
        Assert.DoesNotContain("USE TEMP B-TREE FOR ORDER BY", plans[2], StringComparison.Ordinal);
        Assert.DoesNotContain(plans, ScansAMessageTable);
    }

    private const string SenderScan = "IX_outbound_messages_ServerId_Stream_From_ReceivedAt";

    // The statement listing the stream's distinct senders (a recursive CTE of seeks in the sender index). Other statements
    // may also use that index (on SQLite the rows above the search index's cursor are read by server, stream and From).
    private static bool IsSenderScan(string plan) => plan.Contains("RECURSIVE STEP", StringComparison.Ordinal);

    [Fact]
    public async Task MessageSearchBySenderSeeksTheStreamsDistinctSendersAndCountsFromTheSenderIndexAlone()
    {
        var term = "shop3@example.net";
        // Ten senders, each with more messages than the walk reads: the bench's store (20 senders, ~50,000 messages each).
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, Search("fromemail", term), CancellationToken.None),
            db => SeedAsync(db, 10 * MessageLog.MinWalkRows, i => $"shop{i % 10}@example.net"));
        Assert.True(plans.Count == 4, string.Join("\n---\n", plans));
        // The distinct senders: one seek per value in the sender index (a skip scan), never a scan of the stream's rows.
        Assert.Contains("SEARCH outbound_messages USING COVERING INDEX IX_outbound_messages_ServerId_Stream_From_ReceivedAt (ServerId=? AND Stream=? AND From>?)", plans[0], StringComparison.Ordinal);
        // The count: the matching senders' entries of the same index, no trigram index and no row read. Before: each of
        // the 10,000 counted matches of the FTS table looked up in outbound_messages for its server and stream.
        Assert.True(plans[1].Contains("SEARCH o USING COVERING INDEX IX_outbound_messages_ServerId_Stream_From_ReceivedAt (ServerId=? AND Stream=? AND From=?)", StringComparison.Ordinal), plans[1]);
        Assert.DoesNotContain(plans, p => p.Contains("outbound_message_search", StringComparison.Ordinal));
        // The page: the walk of the newest rows, as for any frequent term.
        Assert.Contains("USING INDEX IX_outbound_messages_ServerId_Stream_ReceivedAt (ServerId=? AND Stream=? AND ReceivedAt>?)", plans[3], StringComparison.Ordinal);
        Assert.DoesNotContain(plans, ScansAMessageTable);
    }

    private static MessageSearch Search(string filter, string term) =>
        new(new Paging(50, 0), filter == "recipient" ? term : null, filter == "fromemail" ? term : null,
            null, null, null, null, filter == "subject" ? term : null, "outbound", null) { CountLimit = MessageLog.ApiCountLimit };

    [Fact]
    public async Task MessageSearchByStatusCountsFromTheStatusIndexAloneAndPagesARareStatusThroughIt()
    {
        var search = new MessageSearch(new Paging(50, 0), null, null, null, "sent", null, null, null, "outbound", null) { CountLimit = MessageLog.ApiCountLimit };
        // Sent: only the oldest message, behind more queued messages than the walk reads (the bench's empty store:
        // its messages are queued, never delivered).
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, search, CancellationToken.None),
            db => SeedAsync(db, MessageLog.MinWalkRows + 1, i => "app@example.org", i => i == MessageLog.MinWalkRows ? MessageStatus.Sent : MessageStatus.Queued));
        // The count, then per stored status that "sent" covers (Sent, Processed) the keys of its newest offset + count
        // messages and, when there are any, those rows by their ReceivedAt range, each read in order from the index.
        Assert.True(plans.Count == 4, string.Join("\n---\n", plans));
        // Before this index: the count and the page read every row of the stream (163 ms on the bench's empty store).
        Assert.Contains("USING COVERING INDEX IX_outbound_messages_ServerId_Stream_Status_ReceivedAt (ServerId=? AND Stream=? AND Status=?)", plans[0], StringComparison.Ordinal);
        foreach (var page in plans.Skip(1))
        {
            Assert.Contains("IX_outbound_messages_ServerId_Stream_Status_ReceivedAt (ServerId=? AND Stream=? AND Status=?", page, StringComparison.Ordinal);
            // Read newest first from the index: no sort of every match (a million-message store whose newest rows are queued: 1.5 s).
            Assert.DoesNotContain("USE TEMP B-TREE FOR ORDER BY", page, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(plans, ScansAMessageTable);
    }

    /// <summary>A plan line reading every row of <c>outbound_messages</c> (named m or o in EF Core's SQL); not the scan of
    /// the FTS table's matches, nor of a subquery's rows (m0).</summary>
    private static bool ScansAMessageTable(string plan) =>
        plan.Split('\n').Any(line => line is "SCAN m" or "SCAN o" || line.StartsWith("SCAN m USING", StringComparison.Ordinal)
            || line.StartsWith("SCAN o USING", StringComparison.Ordinal) || line.StartsWith("SCAN outbound_messages", StringComparison.Ordinal));

    /// <summary>n messages of server 1's outbound stream, the i-th i seconds old, From and Status chosen per message.</summary>
    private static async Task SeedAsync(MailroomDb db, int n, Func<int, string> from, Func<int, MessageStatus>? status = null, string tag = "")
    {
        db.OutboundMessages.AddRange(Enumerable.Range(0, n).Select(i => new OutboundMessage
        {
            Id = Guid.NewGuid(), AccountId = 1, ServerId = 1, From = from(i), Subject = from(i), RecipientsJson = $"[\"{from(i)}\"]",
            Tag = tag, Stage = MessageStage.Prepared, Status = status?.Invoke(i) ?? MessageStatus.Sent, ReceivedAt = 1_000_000_000_000 - i * 1000L,
        }));
        await db.SaveChangesAsync();
        await MessageSearchIndex.CatchUpAllAsync(db, CancellationToken.None); // as the accept path's group commits leave them
    }

    [Fact]
    public async Task DeliveryStatsCountFromIndexesAlone()
    {
        var plans = await PlansAsync(db => new Mailroom.Core.Events.BounceService(db, new Mailroom.Core.Webhooks.WebhookOutbox(TimeProvider.System))
            .StatsAsync(1, CancellationToken.None));
        Assert.Contains(plans, p => p.Contains("USING COVERING INDEX IX_bounces_ServerId_Type (ServerId=?)", StringComparison.Ordinal));
        Assert.Contains(plans, p => p.Contains("USING COVERING INDEX IX_suppressions_ServerId_Email (ServerId=?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InboundMessageDetailsFindTheEventsAttemptsThroughItsDeliveriesIndexes()
    {
        var id = Guid.NewGuid();
        var plans = await PlansAsync(db => new Mailroom.Core.Inbound.InboundLog(db, null!, TimeProvider.System).DetailsAsync(1, id, CancellationToken.None),
            async db =>
            {
                // No server nor webhook rows: the plan reads only these tables.
                await db.Database.OpenConnectionAsync();
                await db.Database.ExecuteSqlRawAsync("PRAGMA foreign_keys=OFF");
                // Attempts of other events around the message's: a store that has posted many webhooks.
                for (var e = 0; e < 3; e++)
                {
                    var ev = new Mailroom.Core.Webhooks.WebhookEvent { ServerId = 1, Stream = "inbound", RecordType = "Inbound", PayloadJson = "{}" };
                    db.WebhookEvents.Add(ev);
                    await db.SaveChangesAsync();
                    var delivery = new Mailroom.Core.Webhooks.WebhookDelivery { EventId = ev.Id, ServerId = 1, Url = "http://hooks.example/in", Host = "hooks.example", State = Mailroom.Core.Webhooks.WebhookDeliveryState.Delivered };
                    db.WebhookDeliveries.Add(delivery);
                    await db.SaveChangesAsync();
                    db.WebhookAttempts.Add(new Mailroom.Core.Webhooks.WebhookAttempt { DeliveryId = delivery.Id, EventId = ev.Id, ServerId = 1, RecordType = "Inbound", StatusCode = 200, Outcome = "Done" });
                    if (e == 1)
                        db.InboundMessages.Add(new Mailroom.Core.Inbound.InboundMessage { Id = id, ServerId = 1, Recipient = "in@example.org", SummaryJson = "{}", WebhookEventId = ev.Id });
                    await db.SaveChangesAsync();
                }
            });
        // The message by its key, then its event's attempts.
        var attempts = plans.Where(p => !p.Contains("inbound_messages", StringComparison.Ordinal)).ToList();
        Assert.True(attempts.Count == 1, string.Join("\n---\n", plans));
        // Before: SCAN w, every attempt the store holds, for the few of one event (attempts have no EventId index).
        Assert.Contains("USING INDEX IX_webhook_attempts_DeliveryId (DeliveryId=?)", attempts[0], StringComparison.Ordinal);
        Assert.Contains("IX_webhook_deliveries_EventId (EventId=?)", attempts[0], StringComparison.Ordinal);
        Assert.DoesNotContain(attempts[0].Split('\n'), line => line.StartsWith("SCAN w", StringComparison.Ordinal));
    }

    private static async Task<List<string>> PlansAsync(Func<MailroomDb, Task> run, Func<MailroomDb, Task>? seed = null)
    {
        var dir = Directory.CreateTempSubdirectory("mailroom-plan-");
        try
        {
            var plans = new List<string>();
            var options = new DbContextOptionsBuilder<SqliteMailroomDb>()
                .UseSqlite($"Data Source={Path.Combine(dir.FullName, "mailroom.db")};Pooling=false")
                .AddInterceptors(new PlanCapture(plans)).Options;
            await using (var db = new SqliteMailroomDb(options))
            {
                await DatabaseSetup.MigrateAsync(db);
                if (seed is not null)
                    await seed(db);
                plans.Clear();
                await run(db);
            }
            Assert.NotEmpty(plans);
            return plans;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Before each query Mailroom reads, asks SQLite for its plan with the same text and parameters.</summary>
    private sealed class PlanCapture(List<string> plans) : DbCommandInterceptor
    {
        public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
        {
            Explain(command);
            return result;
        }

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
            InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Explain(command);
            return ValueTask.FromResult(result);
        }

        private void Explain(DbCommand command)
        {
            var text = command.CommandText.TrimStart();
            if (!text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("WITH", StringComparison.OrdinalIgnoreCase))
                return;
            using var explain = (SqliteCommand)command.Connection!.CreateCommand();
            explain.Transaction = (SqliteTransaction?)command.Transaction;
            explain.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            foreach (SqliteParameter p in command.Parameters)
                explain.Parameters.AddWithValue(p.ParameterName, p.Value);
            using var reader = explain.ExecuteReader();
            var lines = new List<string>();
            while (reader.Read())
                lines.Add(reader.GetString(3));
            plans.Add(string.Join("\n", lines));
        }
    }
}
