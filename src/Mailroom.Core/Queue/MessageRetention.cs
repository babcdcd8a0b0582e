using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Queue;

/// <summary>
/// Message content is kept for a retention period (Postmark: 45 days), then purged: the message, its delivery
/// rows and its events go together. Deliveries still pending are never purged. Bounces and received reports follow
/// the same period, and so do webhook events, deliveries and attempts (<see cref="Mailroom.Core.Webhooks.WebhookRetention"/>); a bounce's raw dump goes after 30 days (Postmark keeps dumps 30 days) or the retention, if shorter.
/// Suppressions are never purged: an inactive address stays inactive until someone reactivates it.
/// </summary>
public sealed class MessageRetention(MailroomDb db, PlatformSettings platform, TimeProvider clock)
{
    public static readonly TimeSpan DumpRetention = TimeSpan.FromDays(30);

    /// <summary>
    /// Messages deleted per transaction. Each batch is one short write transaction (a message with its events,
    /// deliveries and tracking rows: about six statements), so the accept path's group commit waits at most one batch
    /// for the write lock (SQLite has one writer); 1,000 a batch, one commit per statement, stalled POST /email 5-8×;
    /// 200 a batch held the lock ~90 ms on a million-message SQLite store (the FTS5 delete trigger re-tokenizes each
    /// row's columns), and a waiter in another process polls the lock at growing intervals (SQLite's busy handler:
    /// 25, 50, 100 ms steps), so p99 of POST /email during a purge was 2.3× the quiet p99.
    /// </summary>
    public const int BatchSize = 50;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public async Task<int> PurgeAsync(CancellationToken ct = default)
    {
        var cutoff = (clock.GetUtcNow() - platform.MessageRetention).ToUnixTimeMilliseconds();
        var total = 0;
        while (true)
        {
            var ids = await db.OutboundMessages.AsNoTracking()
                .Where(m => m.ReceivedAt < cutoff && m.Stage != MessageStage.Accepted &&
                            !db.Deliveries.Any(d => d.MessageId == m.Id && d.State == DeliveryState.Pending))
                .OrderBy(m => m.ReceivedAt).Select(m => m.Id).Take(BatchSize).ToListAsync(ct);
            if (ids.Count == 0)
            {
                var dumpCutoff = (clock.GetUtcNow() - Min(platform.MessageRetention, DumpRetention)).ToUnixTimeMilliseconds();
                await db.Bounces.Where(b => b.BouncedAt < dumpCutoff && b.Content != null)
                    .ExecuteUpdateAsync(u => u.SetProperty(b => b.Content, (string?)null), ct);
                await db.Bounces.Where(b => b.BouncedAt < cutoff).ExecuteDeleteAsync(ct);
                await db.InboundReports.Where(r => r.ReceivedAt < cutoff).ExecuteDeleteAsync(ct);
                await Mailroom.Core.Webhooks.WebhookRetention.PurgeAsync(db, cutoff, ct);
                // Inbound mail is kept as long as outbound (spec §8), once it is no longer waiting to be processed or posted.
                await db.InboundMessages.Where(m => m.ReceivedAt < cutoff && m.Status != Inbound.InboundStatus.Received
                    && m.Status != Inbound.InboundStatus.Queued && m.Status != Inbound.InboundStatus.Scheduled).ExecuteDeleteAsync(ct);
                return total;
            }
            var started = clock.GetTimestamp();
            await using (var tx = await db.Database.BeginTransactionAsync(ct))
            {
                await db.MessageEvents.Where(e => ids.Contains(e.MessageId)).ExecuteDeleteAsync(ct);
                await db.EngagementEvents.Where(e => ids.Contains(e.MessageId)).ExecuteDeleteAsync(ct);
                await db.TrackedCopies.Where(c => ids.Contains(c.MessageId)).ExecuteDeleteAsync(ct);
                await db.TrackedLinks.Where(l => ids.Contains(l.MessageId)).ExecuteDeleteAsync(ct);
                await db.Deliveries.Where(d => ids.Contains(d.MessageId)).ExecuteDeleteAsync(ct);
                total += await db.OutboundMessages.Where(m => ids.Contains(m.Id)).ExecuteDeleteAsync(ct);
                await tx.CommitAsync(ct);
            }
            // Leave the writer free as long as the batch held it, so a purge takes at most about half of the write
            // time and accepted mail keeps its commits (the job is hourly and in no hurry).
            var held = clock.GetElapsedTime(started);
            if (ids.Count == BatchSize && held > TimeSpan.Zero)
                await Task.Delay(held, clock, ct);
        }
    }
}
