using Mailroom.Core;
using Mailroom.Core.Queue;
using Microsoft.Data.Sqlite;

namespace Mailroom.Tests.Queue;

/// <summary>
/// SQLite's search index behind its cursor (<see cref="MessageSearchIndex"/>, migration DeferredMessageSearch): a group
/// commit indexes a bounded backlog, the search stays exact for the rows left above the cursor, and the index stays
/// consistent with the table.
/// </summary>
public sealed class MessageSearchIndexTests
{
    [Fact]
    public async Task AGroupCommitIndexesABoundedBacklogAndTheSearchFindsTheRowsItLeftAboveTheCursor()
    {
        var dir = Directory.CreateTempSubdirectory("mailroom-search-index-");
        try
        {
            var options = new DbContextOptionsBuilder<SqliteMailroomDb>()
                .UseSqlite($"Data Source={Path.Combine(dir.FullName, "mailroom.db")};Pooling=false").Options;
            await using var db = new SqliteMailroomDb(options);
            await DatabaseSetup.MigrateAsync(db);
            // A backlog stored outside the queue (an import): more rows than one catch-up indexes.
            var backlog = MessageSearchIndex.MaxRowsPerCatchUp + 300;
            db.OutboundMessages.AddRange(Enumerable.Range(0, backlog).Select(i => Message(i, $"import{i}@example.net")));
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
            Assert.Equal(0, await CursorAsync(db));

            // One accepted message: its group commit indexes the oldest MaxRowsPerCatchUp rows of the backlog only.
            await QueueRows.InsertMessagesAsync(db, [Message(backlog, "accepted@example.net")], CancellationToken.None);
            Assert.Equal(MessageSearchIndex.MaxRowsPerCatchUp, await CursorAsync(db));

            var log = new MessageLog(db);
            Task<List<string>> Find(string recipient) => log.SearchAsync(1,
                new MessageSearch(new Paging(50, 0), recipient, null, null, null, null, null, null, "outbound", null), CancellationToken.None)
                .ContinueWith(t => t.Result.Messages.SelectMany(m => m.Recipients).ToList());
            Assert.Equal(["import7@example.net"], await Find("import7@example.net"));                      // indexed
            Assert.Equal(["import5299@example.net"], await Find("import5299@example.net"));                // above the cursor
            Assert.Equal(["accepted@example.net"], await Find("accepted@example"));                        // above the cursor

            await MessageSearchIndex.CatchUpAllAsync(db, CancellationToken.None);
            Assert.Equal(backlog + 1, await CursorAsync(db));
            Assert.Equal(["import5299@example.net"], await Find("import5299@example.net"));
            Assert.Equal(["accepted@example.net"], await Find("accepted@example"));
            // FTS5's own check of an external-content index against its table: every row indexed once, with its text.
            await db.Database.ExecuteSqlRawAsync("INSERT INTO outbound_message_search(outbound_message_search, rank) VALUES ('integrity-check', 1)");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    private static OutboundMessage Message(int i, string recipient) => new()
    {
        Id = OutboundMessage.NewId(DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000_000 + i)), AccountId = 1, ServerId = 1,
        From = "app@example.org", Subject = "Message " + i, RecipientsJson = $"[\"{recipient}\"]", Stage = MessageStage.Prepared,
        Status = MessageStatus.Sent, ReceivedAt = 1_000_000_000_000 + i,
    };

    private static async Task<long> CursorAsync(MailroomDb db) =>
        (await db.Database.SqlQueryRaw<long>($"SELECT \"Indexed\" AS \"Value\" FROM {MessageSearchIndex.CursorTable}").ToListAsync()).Single();
}
