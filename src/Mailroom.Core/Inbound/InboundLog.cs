using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Inbound;

public sealed record InboundSearch(Paging Paging, string? Recipient, string? FromEmail, string? Tag, string? Subject, string? MailboxHash,
    string? Status, DateTimeOffset? FromDate, DateTimeOffset? ToDate);

/// <summary>
/// The Messages API for inbound mail (spec §8): search, details with the posting attempts as events, and the two
/// actions: retry a Failed message (its outbox row is due again, to the server's current hook URL) and bypass the
/// rules of a Blocked one (processed again without them). Every query is scoped to the calling server.
/// </summary>
public sealed class InboundLog(MailroomDb db, InboundProcessor processor, TimeProvider clock)
{
    public async Task<InboundMessageList> SearchAsync(int serverId, InboundSearch s, CancellationToken ct)
    {
        var q = db.InboundMessages.AsNoTracking().Where(m => m.ServerId == serverId);
        if (s.Recipient is { Length: > 0 } rcpt)
        {
            var r = rcpt.ToLowerInvariant();
            q = q.Where(m => m.Recipient.ToLower().Contains(r));
        }
        if (s.FromEmail is { Length: > 0 } from)
        {
            var f = from.ToLowerInvariant();
            q = q.Where(m => m.FromEmail.Contains(f));
        }
        if (s.Tag is { Length: > 0 } tag)
            q = q.Where(m => m.Tag == tag);
        if (s.Subject is { Length: > 0 } subject)
            q = q.Where(m => m.Subject.Contains(subject));
        if (s.MailboxHash is { Length: > 0 } hash)
            q = q.Where(m => m.MailboxHash == hash);
        if (s.Status is { Length: > 0 } status)
        {
            var wanted = status.ToLowerInvariant() switch
            {
                "blocked" => [InboundStatus.Blocked],
                "processed" => [InboundStatus.Processed],
                "queued" => [InboundStatus.Queued, InboundStatus.Received],
                "failed" => [InboundStatus.Failed],
                "scheduled" => new[] { InboundStatus.Scheduled },
                _ => throw new MailroomException(PostmarkErrors.InvalidMessagesQuery, $"Unknown inbound status '{status}': blocked, processed, queued, failed or scheduled."),
            };
            q = q.Where(m => wanted.Contains(m.Status));
        }
        if (s.FromDate is { } fd)
        {
            var t = fd.ToUnixTimeMilliseconds();
            q = q.Where(m => m.ReceivedAt >= t);
        }
        if (s.ToDate is { } td)
        {
            var t = td.ToUnixTimeMilliseconds();
            q = q.Where(m => m.ReceivedAt <= t);
        }
        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).Skip(s.Paging.Offset).Take(s.Paging.Count)
            .Select(m => new { m.Id, m.Status, m.SummaryJson, m.Recipient, m.MailFrom }).ToListAsync(ct);
        return new InboundMessageList(total, rows.Select(m => Summary(m.Id, m.Status, m.SummaryJson, m.Recipient, m.MailFrom)).ToList());
    }

    public async Task<InboundMessageDetails> DetailsAsync(int serverId, Guid id, CancellationToken ct)
    {
        var m = await db.InboundMessages.AsNoTracking().Where(x => x.ServerId == serverId && x.Id == id)
            .Select(x => new { x.Id, x.Status, x.SummaryJson, x.Recipient, x.MailFrom, x.BlockedReason, x.WebhookEventId, x.ReceivedAt })
            .FirstOrDefaultAsync(ct) ?? throw new MailroomException(PostmarkErrors.MessageNotFound, $"Inbound message '{id}' was not found.");
        var payload = Payload(m.SummaryJson);
        var events = new List<MessageEventResponse>();
        if (m.WebhookEventId is { } evId)
            // Through the event's deliveries (both indexed): attempts have no index on EventId, so a filter on it read every
            // attempt the store holds.
            events.AddRange((await db.WebhookAttempts.AsNoTracking()
                    .Where(a => db.WebhookDeliveries.Where(d => d.EventId == evId).Select(d => d.Id).Contains(a.DeliveryId) && a.ServerId == serverId)
                    .OrderBy(a => a.Id).ToListAsync(ct))
                .Select(a => new MessageEventResponse(m.Recipient, a.Outcome == "Done" ? "Delivered" : a.Outcome == "Retry" ? "Transient" : "Failed",
                    DateTimeOffset.FromUnixTimeMilliseconds(a.At),
                    new Dictionary<string, string>
                    {
                        ["StatusCode"] = a.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["Details"] = a.Error,
                    })));
        return new InboundMessageDetails(Summary(m.Id, m.Status, m.SummaryJson, m.Recipient, m.MailFrom))
        {
            TextBody = payload?.TextBody ?? "",
            HtmlBody = payload?.HtmlBody ?? "",
            StrippedTextReply = payload?.StrippedTextReply ?? "",
            Headers = payload?.Headers ?? [],
            BlockedReason = m.BlockedReason,
            MessageEvents = events,
        };
    }

    /// <summary>PUT /messages/inbound/{id}/retry: a Failed message is posted again, from the first row of the schedule.</summary>
    public async Task RetryAsync(int serverId, Guid id, CancellationToken ct)
    {
        var m = await db.InboundMessages.AsNoTracking().Where(x => x.ServerId == serverId && x.Id == id)
            .Select(x => new { x.Status, x.WebhookEventId }).FirstOrDefaultAsync(ct) ?? throw new MailroomException(PostmarkErrors.MessageNotFound, $"Inbound message '{id}' was not found.");
        if (m.Status != InboundStatus.Failed || m.WebhookEventId is not { } evId)
            throw new MailroomException(PostmarkErrors.RetryFailed, "Only a message whose posting failed can be retried.");
        var url = await db.Servers.AsNoTracking().Where(s => s.Id == serverId).Select(s => s.InboundHookUrl).FirstAsync(ct);
        if (url.Length == 0)
            throw new MailroomException(PostmarkErrors.RetryFailed, "The server has no InboundHookUrl to post to.");
        var host = Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host.ToLowerInvariant() : "";
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.WebhookDeliveries.Where(d => d.EventId == evId && d.ServerId == serverId).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.State, WebhookDeliveryState.Pending).SetProperty(d => d.Attempts, 0).SetProperty(d => d.NextAttemptAt, now)
            .SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null).SetProperty(d => d.Url, url).SetProperty(d => d.Host, host), ct);
        await db.InboundMessages.Where(x => x.Id == id && x.Status == InboundStatus.Failed)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.Status, InboundStatus.Queued), ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>PUT /messages/inbound/{id}/bypass: a Blocked message is processed again without the inbound rules.</summary>
    public async Task BypassAsync(int serverId, Guid id, CancellationToken ct)
    {
        var status = await db.InboundMessages.AsNoTracking().Where(x => x.ServerId == serverId && x.Id == id)
            .Select(x => (InboundStatus?)x.Status).FirstOrDefaultAsync(ct) ?? throw new MailroomException(PostmarkErrors.MessageNotFound, $"Inbound message '{id}' was not found.");
        if (status != InboundStatus.Blocked || !await processor.ProcessAsync(id, InboundStatus.Blocked, ct))
            throw new MailroomException(PostmarkErrors.BypassFailed, "Only a blocked message can be bypassed.");
    }

    private static InboundPayload? Payload(string json) =>
        json.Length == 0 ? null : JsonSerializer.Deserialize<InboundPayload>(json, InboundProcessor.Json);

    private static InboundMessageResponse Summary(Guid id, InboundStatus status, string json, string recipient, string mailFrom)
    {
        var p = Payload(json);
        return new InboundMessageResponse
        {
            From = p?.From ?? mailFrom,
            FromName = p?.FromName ?? "",
            FromFull = p?.FromFull ?? new InboundFullAddress(mailFrom, "", ""),
            To = p?.To ?? "",
            ToFull = p?.ToFull ?? [],
            Cc = p?.Cc ?? "",
            CcFull = p?.CcFull ?? [],
            Bcc = p?.Bcc ?? "",
            BccFull = p?.BccFull ?? [],
            ReplyTo = p?.ReplyTo ?? "",
            OriginalRecipient = recipient,
            Subject = p?.Subject ?? "",
            Date = p?.Date ?? "",
            MailboxHash = p?.MailboxHash ?? "",
            Tag = p?.Tag ?? "",
            MessageID = id,
            Status = status switch
            {
                InboundStatus.Received => "Queued",
                _ => status.ToString(),
            },
            Attachments = p?.Attachments.Select(a => new InboundAttachmentInfo(a.Name, a.ContentType, a.ContentID, a.ContentLength)).ToList() ?? [],
            MessageStream = DefaultStreams.Inbound,
        };
    }
}
