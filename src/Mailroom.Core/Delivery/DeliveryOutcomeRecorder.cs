using System.Text.Json;
using Mailroom.Core.Events;
using Mailroom.Core.Queue;
using Mailroom.Core.Stats;
using Mailroom.Mail.Bounces;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Delivery;

/// <summary>
/// Turns delivery outcomes into row updates and events, in one transaction: Delivered; Transient with the next
/// attempt from the <see cref="RetrySchedule"/>; Bounced on a 5xx or when the maximum age is reached. A 5xx
/// (RFC 5321 §4.2.1: permanent negative completion) also becomes a <see cref="Bounce"/> record, classified by
/// <see cref="SmtpReplyClassifier"/> from the reply and its RFC 3463 enhanced status code, and the Bounced event
/// carries its ID; a hard bounce suppresses the address in the message's stream (<see cref="BounceRecorder"/>).
/// </summary>
public sealed class DeliveryOutcomeRecorder(DeliveryOptions options, TimeProvider clock, BounceRecorder bounces, StreamBreaker breaker,
    Mailroom.Core.Webhooks.WebhookOutbox webhooks, ILogger<DeliveryOutcomeRecorder>? log = null)
{
    private const string UpdateDelivery =
        "UPDATE deliveries SET \"State\" = @State, \"Attempts\" = @Attempts, \"NextAttemptAt\" = @NextAttemptAt, " +
        "\"LeaseUntil\" = 0, \"LeaseOwner\" = NULL, \"LastResult\" = @LastResult WHERE \"Id\" = @Id";

    public async Task RecordAsync(MailroomDb db, IReadOnlyList<(RecipientDelivery Delivery, DeliveryOutcome Outcome)> outcomes, CancellationToken ct)
    {
        // One transaction: the rows' outcomes and events as plain SQL (RowStatements), bounce records through EF on the
        // same connection and transaction (a bounce's ID must exist before the event that names it).
        await using var rows = await RowStatements.BeginAsync(db, ct);
        await db.Database.UseTransactionAsync(rows.Transaction, ct);
        IReadOnlyList<(int ServerId, string Stream)> hardBounced;
        try
        {
            hardBounced = await RecordInTransactionAsync(db, rows, outcomes, ct);
        }
        finally
        {
            await db.Database.UseTransactionAsync(null, CancellationToken.None);
        }
        // After the commit, so the breaker counts this round's bounces; a trip pauses the stream for later claims.
        foreach (var (serverId, stream) in hardBounced)
            await breaker.CheckAsync(db, serverId, stream, ct);
    }

    /// <summary>Writes the outcomes and commits; returns the (server, stream) pairs that got a hard bounce.</summary>
    private async Task<IReadOnlyList<(int ServerId, string Stream)>> RecordInTransactionAsync(MailroomDb db, RowStatements rows,
        IReadOnlyList<(RecipientDelivery Delivery, DeliveryOutcome Outcome)> outcomes, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var ids = outcomes.Select(o => o.Delivery.MessageId).Distinct().ToList();
        var messages = await db.OutboundMessages.AsNoTracking()
            .Where(m => ids.Contains(m.Id))
            .Select(m => new SentMessage(m.Id, m.ServerId, m.Stream, m.From, m.Subject, m.Tag, m.TraceParent)).ToDictionaryAsync(m => m.Id, ct);
        var events = new List<(MessageEvent Event, Dictionary<string, string> Details, Bounce? Bounce)>();
        var delivered = new List<StatsIncrement>();
        foreach (var (d, o) in outcomes)
        {
            var claimedAt = d.LeaseUntil - (long)options.Lease.TotalMilliseconds;
            d.Attempts++;
            d.LeaseOwner = null;
            d.LeaseUntil = 0;
            d.LastResult = Truncate(o.Reply, 1000);
            messages.TryGetValue(d.MessageId, out var sent);
            var (type, details, bounce) = o.Kind switch
            {
                OutcomeKind.Delivered => RecordDelivered(d, o, sent, now, delivered),
                OutcomeKind.Transient when options.Retries.Next(d.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(d.CreatedAt), now) is { } next
                    => RecordDeferred(d, o, next),
                OutcomeKind.Transient => await RecordGaveUpAsync(db, d, o, sent, ct),
                _ => await RecordRefusedAsync(db, d, o, sent, ct),
            };
            events.Add((new MessageEvent
            {
                MessageId = d.MessageId,
                ServerId = sent?.ServerId,
                Recipient = d.Recipient,
                Type = type,
                At = nowMs,
            }, details, bounce));
            MailroomMetrics.DeliveryAttempt(log, d, o, type, sent?.Stream, claimedAt, nowMs, sent?.TraceParent);
        }
        if (events.Any(e => e.Bounce is not null))
            await db.SaveChangesAsync(ct);
        foreach (var (ev, details, bounce) in events)
        {
            if (bounce is not null)
                EventDetails.SetBounce(details, bounce.Id);
            ev.DetailsJson = JsonSerializer.Serialize(details);
        }
        await rows.ExecuteEachAsync(UpdateDelivery, outcomes, (o, r) => r
            .Add("Id", o.Delivery.Id).Add("State", (int)o.Delivery.State).Add("Attempts", o.Delivery.Attempts)
            .Add("NextAttemptAt", o.Delivery.NextAttemptAt).Add("LastResult", o.Delivery.LastResult), ct);
        await QueueRows.InsertEventsAsync(rows, events.Select(e => e.Event).ToList(), ct);
        await StatsCounters.AddAsync(rows, delivered, ct);
        await webhooks.AddDeliveryOutcomesAsync(db, events, messages.Where(m => m.Value.ServerId is not null)
            .ToDictionary(m => m.Key, m => (m.Value.Stream, m.Value.From, m.Value.Subject, m.Value.Tag)), ct);
        await rows.CommitAsync(ct);
        return events.Where(e => e.Bounce is { Type: BounceType.HardBounce }).Select(e => (e.Bounce!.ServerId, e.Bounce.Stream)).Distinct().ToList();
    }

    /// <summary>The message's fields an outcome's event, bounce and statistics need.</summary>
    private sealed record SentMessage(Guid Id, int? ServerId, string Stream, string From, string Subject, string Tag, string? TraceParent);

    /// <summary>What recording one outcome gives its event: the type, the details and the bounce row if one was made.</summary>
    private readonly record struct Recorded(MessageEventType Type, Dictionary<string, string> Details, Bounce? Bounce);

    /// <summary>A 2xx after DATA: delivered, counted in the server's statistics.</summary>
    private static Recorded RecordDelivered(RecipientDelivery d, DeliveryOutcome o, SentMessage? sent, DateTimeOffset now, List<StatsIncrement> delivered)
    {
        d.State = DeliveryState.Delivered;
        if (sent?.ServerId is { } deliveredServer)
            delivered.Add(StatsIncrement.For(deliveredServer, sent.Stream, sent.Tag, now, StatsMetric.Delivered, d.Recipient, mxHost: o.Host));
        return new(MessageEventType.Delivered, EventDetails.Delivered(o.Reply, o.Host, o.Ip, o.TlsProtocol, o.TlsCertificateValid), null);
    }

    /// <summary>A transient failure within the retry schedule: pending again at <paramref name="next"/>.</summary>
    private static Recorded RecordDeferred(RecipientDelivery d, DeliveryOutcome o, DateTimeOffset next)
    {
        d.State = DeliveryState.Pending;
        d.NextAttemptAt = next.ToUnixTimeMilliseconds();
        return new(MessageEventType.Transient, EventDetails.Deferred(o.Reply, o.Host, o.Ip, next), null);
    }

    /// <summary>A transient failure past the schedule's maximum age: the delivery gives up.</summary>
    private async Task<Recorded> RecordGaveUpAsync(MailroomDb db, RecipientDelivery d, DeliveryOutcome o, SentMessage? sent, CancellationToken ct)
    {
        d.State = DeliveryState.Failed;
        var gaveUpSummary = $"Delivery gave up after {d.Attempts} attempts over {options.Retries.MaxAge.TotalHours:0} hours. Last reply: {o.Reply}";
        Bounce? bounce = null;
        // A bounce row (soft: the address stays active) so the give-up is in the Bounces API and its
        // Bounce webhook carries that row's ID, as Postmark's do.
        if (sent?.ServerId is { } gaveUpServer)
            bounce = await bounces.AddAsync(db, new BounceFacts(gaveUpServer, sent.Stream, d.MessageId, d.Recipient, BounceType.SoftBounce,
                gaveUpSummary, sent.From, sent.Subject, sent.Tag, Content: null, Suppress: false), ct);
        return new(MessageEventType.Bounced, EventDetails.Bounced(gaveUpSummary, o.Reply), bounce);
    }

    /// <summary>A permanent refusal (5xx): a bounce classified from the reply, which suppresses the address when hard.</summary>
    private async Task<Recorded> RecordRefusedAsync(MailroomDb db, RecipientDelivery d, DeliveryOutcome o, SentMessage? sent, CancellationToken ct)
    {
        d.State = DeliveryState.Failed;
        Bounce? bounce = null;
        if (sent?.ServerId is { } serverId)
        {
            var bounceType = SmtpReplyClassifier.Classify(o.SmtpCode ?? 0, null, o.Reply);
            bounce = await bounces.AddAsync(db, new BounceFacts(serverId, sent.Stream, d.MessageId, d.Recipient, bounceType, o.Reply,
                sent.From, sent.Subject, sent.Tag, Content: null, Suppress: bounceType.SuppressesRecipient, MxHost: o.Host), ct);
        }
        return new(MessageEventType.Bounced, EventDetails.Bounced($"The recipient's server refused the message: {o.Reply}", o.Reply, o.Host, o.Ip), bounce);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
