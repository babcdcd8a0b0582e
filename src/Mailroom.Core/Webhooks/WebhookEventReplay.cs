using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// Mailroom extension <c>GET /events?after=&lt;cursor&gt;&amp;count=N</c>: one server's event payloads, as webhooks
/// post them (without bounce <c>Content</c>), in Id order. The cursor is the last Id returned; events are written
/// in the transaction of their state change, so a reader that follows the cursor misses none that were committed
/// before it read.
/// </summary>
public sealed class WebhookEventReplay(MailroomDb db)
{
    public const int MaxCount = 500;

    public async Task<EventPage> PageAsync(int serverId, long after, int count, string? stream, string? recordType, CancellationToken ct)
    {
        if (count is < 1 or > MaxCount)
            throw new MailroomException(PostmarkErrors.InvalidWebhookField, $"'count' must be 1 to {MaxCount}.");
        var q = db.WebhookEvents.AsNoTracking().Where(e => e.ServerId == serverId && e.Id > after);
        if (stream is not null)
            q = q.Where(e => e.Stream == stream);
        if (recordType is not null)
            q = q.Where(e => e.RecordType == recordType);
        var rows = await q.OrderBy(e => e.Id).Take(count).Select(e => new { e.Id, e.PayloadJson, e.BounceId }).ToListAsync(ct);
        var events = rows.Select(r => JsonDocument.Parse(WebhookPayloads.Final(r.PayloadJson, r.BounceId, includeContent: false)).RootElement.Clone()).ToList();
        return new EventPage(rows.Count == 0 ? after : rows[^1].Id, events);
    }
}
