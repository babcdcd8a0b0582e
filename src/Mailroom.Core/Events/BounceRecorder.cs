using System.Text.Json;
using Mailroom.Core.Queue;
using Mailroom.Core.Stats;
using Mailroom.Core.Storage;
using Mailroom.Mail.Bounces;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Events;

/// <summary>What is known about one bounce before it is stored.</summary>
public sealed record BounceFacts(int ServerId, string Stream, Guid? MessageId, string Email, BounceType Type, string Details,
    string From, string Subject, string Tag, string? Content, bool Suppress, string? MxHost = null);

/// <summary>
/// Adds a <see cref="Bounce"/> to a unit of work, and when the bounce makes the address inactive (hard bounce,
/// spam complaint) a <see cref="Suppression"/> in that message's stream only, with a SubscriptionChanged event.
/// The caller saves, inside a transaction it holds and commits: the bounce's ID exists after its SaveChanges, and the
/// bounce's stats counter (<see cref="StatsCounters"/>) is written at once in that transaction. Used by delivery (a 5xx during SMTP,
/// RFC 5321 §4.2.1) and by the MX path (reports that come back to the return path).
/// </summary>
public sealed class BounceRecorder(TimeProvider clock, Mailroom.Core.Webhooks.WebhookOutbox webhooks)
{
    public async Task<Bounce> AddAsync(MailroomDb db, BounceFacts f, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var email = f.Email.Trim().ToLowerInvariant();
        var bounce = new Bounce
        {
            ServerId = f.ServerId,
            Stream = f.Stream,
            MessageId = f.MessageId,
            Type = f.Type,
            Email = email,
            From = Cut(f.From, 500),
            Subject = Cut(f.Subject, 2000),
            Tag = f.Tag,
            Details = Cut(f.Details, 4000),
            BouncedAt = now,
            // Only the recipient can withdraw a complaint (spec §6.3): a complaint cannot be reactivated by the sender.
            CanActivate = f.Type != BounceType.SpamComplaint,
            Content = f.Content,
        };
        if (f.Suppress && f.Type is BounceType.HardBounce or BounceType.SpamComplaint or BounceType.BadEmailAddress)
        {
            var exists = db.Suppressions.Local.Any(s => s.ServerId == f.ServerId && s.Stream == f.Stream && s.Email == email)
                || await db.Suppressions.AnyAsync(s => s.ServerId == f.ServerId && s.Stream == f.Stream && s.Email == email, ct);
            if (!exists)
            {
                bounce.Inactive = true;
                db.Suppressions.Add(new Suppression
                {
                    ServerId = f.ServerId,
                    Stream = f.Stream,
                    Email = email,
                    Reason = f.Type == BounceType.SpamComplaint ? SuppressionReason.SpamComplaint : SuppressionReason.HardBounce,
                    Origin = SuppressionOrigin.Recipient,
                    CreatedAt = now,
                });
                if (f.MessageId is { } messageId)
                    db.MessageEvents.Add(new MessageEvent
                    {
                        MessageId = messageId,
                        ServerId = f.ServerId,
                        Recipient = email,
                        Type = MessageEventType.SubscriptionChanged,
                        At = now,
                        DetailsJson = JsonSerializer.Serialize(EventDetails.SuppressedByRecipient(
                            f.Type == BounceType.SpamComplaint ? nameof(SuppressionReason.SpamComplaint) : nameof(SuppressionReason.HardBounce))),
                    });
            }
        }
        db.Bounces.Add(bounce);
        // Its stats counter, in the caller's transaction: a complaint is counted as SpamComplaint, any other type as a
        // bounce of that type (spec §9 /stats/outbound/bounces keys are the type names).
        await StatsCounters.AddAsync(db, [f.Type == BounceType.SpamComplaint
            ? StatsIncrement.For(f.ServerId, f.Stream, f.Tag, clock.GetUtcNow(), StatsMetric.SpamComplaint, email, mxHost: f.MxHost)
            : StatsIncrement.For(f.ServerId, f.Stream, f.Tag, clock.GetUtcNow(), StatsMetric.Bounced, email, f.Type.ToString(), f.MxHost)], ct);
        // Its webhook deliveries (Bounce or SpamComplaint, and SubscriptionChange when it suppressed) in the same unit of work.
        await webhooks.AddBounceAsync(db, bounce, suppressed: bounce.Inactive, ct);
        return bounce;
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];
}
