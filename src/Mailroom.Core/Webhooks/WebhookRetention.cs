using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// The retention job's webhook part (<see cref="Mailroom.Core.Queue.MessageRetention"/>, <c>--retention-days</c>):
/// attempts, finished deliveries and events older than the cutoff are deleted, each table in batches walked by Id, so
/// every statement is short and a large backlog never holds the database's writer for long. Deliveries still pending
/// and their events are kept whatever their age: purging must not lose an event not yet posted.
/// </summary>
public static class WebhookRetention
{
    public const int Batch = 1000;

    /// <summary>Deletes what is older than <paramref name="cutoff"/> (Unix ms); returns the events deleted.</summary>
    public static async Task<int> PurgeAsync(MailroomDb db, long cutoff, CancellationToken ct, int batch = Batch)
    {
        for (long after = 0; ;)
        {
            var ids = await db.WebhookAttempts.AsNoTracking().Where(a => a.Id > after && a.At < cutoff)
                .OrderBy(a => a.Id).Select(a => a.Id).Take(batch).ToListAsync(ct);
            if (ids.Count == 0)
                break;
            await db.WebhookAttempts.Where(a => ids.Contains(a.Id)).ExecuteDeleteAsync(ct);
            after = ids[^1];
        }
        for (long after = 0; ;)
        {
            var ids = await db.WebhookDeliveries.AsNoTracking()
                .Where(d => d.Id > after && d.CreatedAt < cutoff && d.State != WebhookDeliveryState.Pending)
                .OrderBy(d => d.Id).Select(d => d.Id).Take(batch).ToListAsync(ct);
            if (ids.Count == 0)
                break;
            // A delivery's later attempts (none older than the cutoff) go with it (ON DELETE CASCADE).
            await db.WebhookDeliveries.Where(d => ids.Contains(d.Id) && d.State != WebhookDeliveryState.Pending).ExecuteDeleteAsync(ct);
            after = ids[^1];
        }
        var total = 0;
        for (long after = 0; ;)
        {
            var ids = await db.WebhookEvents.AsNoTracking()
                .Where(e => e.Id > after && e.CreatedAt < cutoff && !db.WebhookDeliveries.Any(d => d.EventId == e.Id))
                .OrderBy(e => e.Id).Select(e => e.Id).Take(batch).ToListAsync(ct);
            if (ids.Count == 0)
                return total;
            // Checked again in the DELETE: a delivery row is never added to an old event, but the rule costs nothing here.
            total += await db.WebhookEvents.Where(e => ids.Contains(e.Id) && !db.WebhookDeliveries.Any(d => d.EventId == e.Id)).ExecuteDeleteAsync(ct);
            after = ids[^1];
        }
    }
}
