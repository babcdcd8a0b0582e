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
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, search, CancellationToken.None));
        Assert.Equal(2, plans.Count(p => p.Contains("IX_outbound_messages_ServerId_Stream_Tag_ReceivedAt (ServerId=? AND Stream=? AND Tag=?)", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("recipient")]
    [InlineData("fromemail")]
    [InlineData("subject")]
    public async Task MessageSearchBySubstringReadsTheTrigramIndexThenLooksUpEachMatchByRowid(string filter)
    {
        var term = "user42@example.net";
        var search = new MessageSearch(new Paging(50, 0), filter == "recipient" ? term : null, filter == "fromemail" ? term : null,
            null, null, null, null, filter == "subject" ? term : null, "outbound", null) { CountLimit = MessageLog.ApiCountLimit };
        var plans = await PlansAsync(db => new MessageLog(db).SearchAsync(1, search, CancellationToken.None));
        // Before: SCAN (or SEARCH by server and stream of) every message of the stream, testing instr(lower(...)).
        Assert.Equal(2, plans.Count(p => p.Contains("SCAN outbound_message_search VIRTUAL TABLE INDEX", StringComparison.Ordinal)
            && p.Contains("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)", StringComparison.Ordinal)));
        Assert.DoesNotContain(plans, p => p.Contains("IX_outbound_messages_ServerId_Stream", StringComparison.Ordinal)
            || p.Split('\n').Any(line => line == "SCAN m" || line.StartsWith("SCAN m USING", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DeliveryStatsCountFromIndexesAlone()
    {
        var plans = await PlansAsync(db => new Mailroom.Core.Events.BounceService(db, new Mailroom.Core.Webhooks.WebhookOutbox(TimeProvider.System))
            .StatsAsync(1, CancellationToken.None));
        Assert.Contains(plans, p => p.Contains("USING COVERING INDEX IX_bounces_ServerId_Type (ServerId=?)", StringComparison.Ordinal));
        Assert.Contains(plans, p => p.Contains("USING COVERING INDEX IX_suppressions_ServerId_Email (ServerId=?)", StringComparison.Ordinal));
    }

    private static async Task<List<string>> PlansAsync(Func<MailroomDb, Task> run)
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
            if (!command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase))
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
