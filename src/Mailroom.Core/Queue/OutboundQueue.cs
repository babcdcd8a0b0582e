using Mailroom.Core.Storage;

namespace Mailroom.Core.Queue;

/// <summary>An accepted message and its recipients, ready to be made durable.</summary>
public sealed record QueuedMessage(OutboundMessage Message, IReadOnlyList<string> Recipients);

/// <summary>
/// The durable outbound queue. <see cref="EnqueueAsync"/> returns only once the message and its delivery rows
/// are committed (fsync). Delivery workers claim <see cref="Delivery"/> rows from it.
/// </summary>
public sealed class OutboundQueue(MailroomDb db, TimeProvider clock)
{
    public async Task EnqueueAsync(QueuedMessage queued, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        if (queued.Message.ReceivedAt == 0)
            queued.Message.ReceivedAt = now;
        db.OutboundMessages.Add(queued.Message);
        foreach (var rcpt in queued.Recipients)
        {
            db.Deliveries.Add(new Delivery
            {
                MessageId = queued.Message.Id,
                Recipient = rcpt,
                Domain = Mailroom.Mail.Addresses.EmailAddress.DomainOf(rcpt),
                State = DeliveryState.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
            });
        }
        await db.SaveChangesAsync(ct);
    }
}
