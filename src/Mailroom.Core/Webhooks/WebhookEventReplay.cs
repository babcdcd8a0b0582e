using System.Globalization;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// Mailroom extension <c>GET /events?after=&lt;cursor&gt;&amp;count=N</c>: one server's event payloads, as webhooks
/// post them (without bounce <c>Content</c>), in the order their transactions committed, with an opaque cursor.
/// Events are written in the transaction of their state change; a reader that follows the cursor misses none.
/// <list type="bullet">
/// <item>SQLite has one writer, whose lock is held from its first write to its commit, so Id order is commit order:
/// the cursor is the last Id returned.</item>
/// <item>On PostgreSQL several transactions write at once and an Id is taken at the write, not at the commit, so a
/// transaction can commit a lower Id after a higher one was read. Events are therefore read in the order of the
/// transaction that wrote them (<c>TxId</c>, <c>pg_current_xact_id()</c>, then Id), and only below the oldest
/// transaction still running when the page is read (<c>pg_snapshot_xmin</c>): every transaction below it has ended,
/// so no event can later appear before the cursor, which is <c>TxId.Id</c> of the last event returned. An event is
/// thus returned once every write transaction that began before it has ended; a long one (anywhere on the
/// PostgreSQL server, other databases included) holds replay back for its length, and never loses an event.</item>
/// </list>
/// </summary>
public sealed class WebhookEventReplay(MailroomDb db)
{
    public const int MaxCount = 500;

    public async Task<EventPage> PageAsync(int serverId, string? after, int count, string? stream, string? recordType, CancellationToken ct)
    {
        if (count is < 1 or > MaxCount)
            throw new MailroomException(PostmarkErrors.InvalidWebhookField, $"'count' must be 1 to {MaxCount}.");
        var (tx, id) = Parse(after);
        var postgres = db is PostgresMailroomDb;
        if (postgres && tx is null && id > 0)
        {
            // A bare Id: a cursor given before events were read in transaction order. Its event still says where it was.
            tx = await db.WebhookEvents.Where(e => e.ServerId == serverId && e.Id == id)
                .Select(e => (ulong?)EF.Property<ulong>(e, PostgresMailroomDb.EventTxId)).SingleOrDefaultAsync(ct)
                ?? throw BadCursor();
        }
        else if (!postgres && tx is not null)
            throw BadCursor();

        IQueryable<WebhookEvent> q = postgres
            ? db.WebhookEvents.FromSql($"""
                SELECT * FROM webhook_events
                WHERE "ServerId" = {serverId} AND ("TxId", "Id") > ({(tx ?? 0).ToString(CultureInfo.InvariantCulture)}::xid8, {id})
                  AND "TxId" < pg_snapshot_xmin(pg_current_snapshot())
                """)
            : db.WebhookEvents.Where(e => e.ServerId == serverId && e.Id > id);
        if (stream is not null)
            q = q.Where(e => e.Stream == stream);
        if (recordType is not null)
            q = q.Where(e => e.RecordType == recordType);
        var rows = postgres
            ? await q.OrderBy(e => EF.Property<ulong>(e, PostgresMailroomDb.EventTxId)).ThenBy(e => e.Id).AsNoTracking().Take(count)
                .Select(e => new Row((ulong?)EF.Property<ulong>(e, PostgresMailroomDb.EventTxId), e.Id, e.PayloadJson, e.BounceId)).ToListAsync(ct)
            : await q.OrderBy(e => e.Id).AsNoTracking().Take(count)
                .Select(e => new Row(null, e.Id, e.PayloadJson, e.BounceId)).ToListAsync(ct);
        var events = rows.Select(r => JsonDocument.Parse(WebhookPayloads.Final(r.PayloadJson, r.BounceId, includeContent: false)).RootElement.Clone()).ToList();
        if (rows.Count > 0)
            (tx, id) = (rows[^1].Tx, rows[^1].Id);
        return new EventPage(Cursor(tx, id), events);
    }

    private sealed record Row(ulong? Tx, long Id, string PayloadJson, long? BounceId);

    /// <summary>The cursor: an Id on SQLite, <c>TxId.Id</c> on PostgreSQL; <c>0</c> (or none) is the start.</summary>
    private static string Cursor(ulong? tx, long id) =>
        tx is { } t ? t.ToString(CultureInfo.InvariantCulture) + "." + id.ToString(CultureInfo.InvariantCulture) : id.ToString(CultureInfo.InvariantCulture);

    private static (ulong? Tx, long Id) Parse(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor))
            return (null, 0);
        const NumberStyles digits = NumberStyles.None;
        var dot = cursor.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
            return long.TryParse(cursor, digits, CultureInfo.InvariantCulture, out var bare) ? (null, bare) : throw BadCursor();
        return ulong.TryParse(cursor.AsSpan(0, dot), digits, CultureInfo.InvariantCulture, out var t)
            && long.TryParse(cursor.AsSpan(dot + 1), digits, CultureInfo.InvariantCulture, out var i)
            ? (t, i)
            : throw BadCursor();
    }

    private static MailroomException BadCursor() =>
        new(PostmarkErrors.InvalidWebhookField, "'after' must be 0 or a NextCursor that GET /events returned for this server.");
}
