using Mailroom.Core.Storage;

namespace Mailroom.Core.Queue;

/// <summary>
/// Keeps SQLite's trigram index of the Messages API's substring filters (<c>outbound_message_search</c>, FTS5) behind a
/// durable cursor instead of a per-row insert trigger (migration <c>DeferredMessageSearch</c>).
/// <para>Why: FTS5 writes its pending postings to disk at every statement savepoint, so a trigger firing on each of a
/// group commit's one-row INSERTs wrote one tiny segment per message and merged them (measured with Mailroom's SQLite
/// 3.53: ~52 µs of CPU per accepted row, more than the row itself), where one <c>INSERT … SELECT</c> of the same rows
/// costs 7–10 µs per row (bench/README.md, "accept2").</para>
/// <para>The invariant: every row with <c>rowid ≤ outbound_message_search_cursor."Indexed"</c> is in the index, none
/// above it is. The committer indexes the rows above the cursor in one statement at the end of each group's own
/// transaction (so a message is indexed when its 200 is sent, with no extra commit or fsync); rows other writers add
/// (platform mail, imports) wait above the cursor until the next group. The search reads the index for rows at or below
/// the cursor and tests the rows above it directly (<see cref="MessageLog"/>), so it is exact whatever the lag. The
/// delete and update triggers touch the index only for rows at or below the cursor; a row given a rowid at or below
/// the cursor (SQLite reuses rowids when the newest rows were deleted) is indexed by its insert trigger.</para>
/// PostgreSQL keeps its pg_trgm GIN indexes, maintained by the database in the insert (GIN's fast-update pending list).
/// </summary>
public static class MessageSearchIndex
{
    /// <summary>The one-row table holding the cursor (rowid of the last indexed message).</summary>
    public const string CursorTable = "outbound_message_search_cursor";

    /// <summary>The rows above the cursor, for the search to test directly (SQLite).</summary>
    // NOT INDEXED: the rows above the cursor are read by rowid range only (SQLite still uses the rowid with NOT INDEXED).
    // Without it the planner took the caller's server and stream terms, pushed into this branch, to the
    // (ServerId, Stream, ReceivedAt) index and read every row of the stream: 175 ms p50 for a recipient search at 1M.
    public const string UnindexedRows = $"SELECT m.* FROM outbound_messages AS m NOT INDEXED WHERE m.rowid > (SELECT \"Indexed\" FROM {CursorTable})";

    private const string Cursor = $"SELECT \"Indexed\" FROM {CursorTable}";

    /// <summary>Most rows one catch-up indexes: a backlog (rows other writers added in bulk) is indexed over several
    /// groups instead of stalling one commit; the rows it leaves above the cursor are still found by the search.</summary>
    public const int MaxRowsPerCatchUp = 5000;

    // The highest rowid of the next rows to index (at most MaxRowsPerCatchUp above the cursor).
    private static readonly string Upper = $"(SELECT max(rowid) FROM (SELECT rowid FROM outbound_messages WHERE rowid > (SELECT \"Indexed\" FROM {CursorTable}) ORDER BY rowid LIMIT {MaxRowsPerCatchUp}))";

    // Those rows into the index, then the cursor past them (public for writers on a plain connection: run it in their
    // transaction, once per MaxRowsPerCatchUp rows they inserted); in the caller's transaction, so the index and the cursor
    // commit (or roll back) together with the rows. (Nothing else writes between the two statements: SQLite has one writer.)
    public static readonly string CatchUp = $"""
        INSERT INTO outbound_message_search(rowid, "RecipientsJson", "From", "Subject")
            SELECT rowid, "RecipientsJson", "From", "Subject" FROM outbound_messages
            WHERE rowid > (SELECT "Indexed" FROM {CursorTable}) AND rowid <= {Upper} ORDER BY rowid;
        UPDATE {CursorTable} SET "Indexed" = coalesce({Upper}, "Indexed");
        """;

    /// <summary>Indexes up to <see cref="MaxRowsPerCatchUp"/> rows above the cursor, in <paramref name="rows"/>' transaction
    /// (SQLite; nothing on PostgreSQL).</summary>
    public static Task CatchUpAsync(RowStatements rows, CancellationToken ct) =>
        rows.Postgres ? Task.CompletedTask : rows.ExecuteAsync(CatchUp, ct);

    /// <summary>Indexes every row above the cursor, <see cref="MaxRowsPerCatchUp"/> per transaction: for a writer that
    /// stored many rows outside the queue (a bulk import, the bench's store filler).</summary>
    public static async Task CatchUpAllAsync(MailroomDb db, CancellationToken ct)
    {
        if (db is not SqliteMailroomDb)
            return;
        while (true)
        {
            await using var rows = await RowStatements.BeginAsync(db, ct);
            var before = await rows.ScalarAsync(Cursor, ct);
            await rows.ExecuteAsync(CatchUp, ct);
            var after = await rows.ScalarAsync(Cursor, ct);
            await rows.CommitAsync(ct);
            if (Equals(before, after))
                return;
        }
    }
}
