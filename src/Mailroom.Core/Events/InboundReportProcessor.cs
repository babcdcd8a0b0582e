using System.Text;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Bounces;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Events;

/// <summary>
/// The MX path's two steps. <see cref="StoreAsync"/> commits the received message as an <see cref="InboundReport"/>
/// (the listener answers 250 only after it, RFC 5321 §6.1: once accepted, a message must not be lost).
/// <see cref="ProcessAsync"/> then turns it into bounces, as a checklist that can stop early:
/// 1. parse (<see cref="BounceParser"/>: RFC 3464 DSNs, text bounces, RFC 5965 complaints, RFC 3834 auto-replies);
/// 2. find the message: the VERP envelope recipient names message and recipient index, else the original
///    message's Message-ID or return path found by the parser;
/// 3. verify the recipient: VERP is not authenticated, so the delivery at that index must be the address the
///    report names (when it names one);
/// 4. record one bounce per failed recipient (<see cref="BounceRecorder"/>), with the Bounced event.
/// A report that matches nothing is kept (state Unmatched) and logged; nothing here throws to the listener.
/// </summary>
public sealed class InboundReportProcessor(MailroomDb db, BounceRecorder bounces, StreamBreaker breaker, TimeProvider clock, ILogger<InboundReportProcessor> log)
{
    private const int MaxContentChars = 256 * 1024;

    public async Task<long> StoreAsync(string mailFrom, IReadOnlyList<string> recipients, byte[] raw, CancellationToken ct)
    {
        var report = new InboundReport
        {
            ReceivedAt = clock.GetUtcNow().ToUnixTimeMilliseconds(),
            MailFrom = mailFrom,
            Recipients = string.Join(",", recipients),
            Raw = raw,
            State = InboundReportState.Pending,
        };
        db.InboundReports.Add(report);
        await db.SaveChangesAsync(ct);
        return report.Id;
    }

    /// <summary>Processes one stored report; returns the bounces it recorded (none when it matched nothing).</summary>
    public async Task<IReadOnlyList<Bounce>> ProcessAsync(long reportId, CancellationToken ct)
    {
        var report = await db.InboundReports.FirstOrDefaultAsync(r => r.Id == reportId, ct);
        if (report is null || report.State != InboundReportState.Pending)
            return [];
        try
        {
            var (recorded, note) = await MatchAndRecordAsync(report, ct);
            report.State = recorded.Count > 0 ? InboundReportState.Processed : InboundReportState.Unmatched;
            report.Note = note;
            await db.SaveChangesAsync(ct);
            if (recorded.Count == 0)
                log.LogWarning("Inbound report {ReportId} from <{MailFrom}> kept unmatched: {Note}", report.Id, report.MailFrom, note);
            return recorded;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Inbound report {ReportId} could not be processed", report.Id);
            db.ChangeTracker.Clear();
            await db.InboundReports.Where(r => r.Id == reportId)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.State, InboundReportState.Failed).SetProperty(r => r.Note, Cut(e.Message, 500)), ct);
            return [];
        }
    }

    /// <summary>Reports left Pending by a crash between store and process.</summary>
    public Task<List<long>> PendingAsync(CancellationToken ct) =>
        db.InboundReports.Where(r => r.State == InboundReportState.Pending).OrderBy(r => r.Id).Select(r => r.Id).Take(1000).ToListAsync(ct);

    private async Task<(List<Bounce> Recorded, string Note)> MatchAndRecordAsync(InboundReport report, CancellationToken ct)
    {
        var parsed = BounceParser.Parse(new MemoryStream(report.Raw, writable: false));
        if (parsed.Kind == BounceReportKind.None)
            return ([], "not recognised as a bounce, complaint or auto-reply");

        // Step 2: which message. The envelope recipient is the VERP return path the bounce was sent back to.
        VerpAddress? verp = null;
        foreach (var candidate in report.Recipients.Split(',', StringSplitOptions.RemoveEmptyEntries)
                     .Append(parsed.ReturnedTo).Append(parsed.Original?.ReturnPath))
        {
            if (Verp.TryDecode(candidate, out var v))
            {
                verp = v;
                break;
            }
        }
        Guid? messageId = verp?.MessageId;
        if (messageId is null && parsed.Original?.PostmarkMessageId is { } pm && Guid.TryParse(pm, out var g))
            messageId = g;
        if (messageId is null && parsed.Original?.MessageId is { } mid && IdFromMessageIdHeader(mid) is var fromHeader && fromHeader != Guid.Empty)
            messageId = fromHeader;
        if (messageId is null)
            return ([], "no VERP address or known Message-ID names the original message");

        var message = await db.OutboundMessages.AsNoTracking().Where(m => m.Id == messageId)
            .Select(m => new { m.Id, m.ServerId, m.Stream, m.From, m.Subject, m.Tag }).FirstOrDefaultAsync(ct);
        if (message?.ServerId is not { } serverId)
            return ([], $"message {messageId} is not known (or is the platform's own mail)");
        var deliveries = await db.Deliveries.AsNoTracking().Where(d => d.MessageId == message.Id)
            .Select(d => new { d.RecipientIndex, d.Recipient }).ToListAsync(ct);

        // Step 3: which recipients. With a VERP index only the delivery at that index can be meant, and the report
        // must name it when it names anyone; without one, each failed recipient the report names must be one of the message's.
        var failed = parsed.Recipients.Where(r => r.Action is null or "failed" or "delayed").ToList();
        var matched = new List<(string Email, BouncedRecipient? Reported)>();
        if (verp is { } verpAddress)
        {
            var delivery = deliveries.FirstOrDefault(d => d.RecipientIndex == verpAddress.RecipientIndex);
            if (delivery is null)
                return ([], $"message {message.Id} has no recipient at index {verpAddress.RecipientIndex}");
            if (parsed.Recipients.Count == 0)
                matched.Add((delivery.Recipient, null));
            else if (failed.FirstOrDefault(r => Same(r.Email, delivery.Recipient) || Same(r.OriginalRecipient, delivery.Recipient)) is { } reported)
                matched.Add((delivery.Recipient, reported));
            else if (parsed.Recipients.Any(r => Same(r.Email, delivery.Recipient) || Same(r.OriginalRecipient, delivery.Recipient)))
                return ([], "the report only tells of a successful delivery");
            else if (parsed.Kind is BounceReportKind.AutoReply or BounceReportKind.AddressChange or BounceReportKind.ChallengeResponse
                     && failed.Count > 0 && failed.All(r => !r.Suppress))
                // An out-of-office often answers from another address of the recipient (an alias, a forward). It
                // suppresses nothing, so trusting the VERP index alone cannot deactivate anyone.
                matched.Add((delivery.Recipient, failed[0]));
            else
                return ([], $"the report names none of the recipients of message {message.Id} at index {verpAddress.RecipientIndex}");
        }
        else
        {
            foreach (var r in failed)
                if (deliveries.FirstOrDefault(d => Same(r.Email, d.Recipient) || Same(r.OriginalRecipient, d.Recipient)) is { } d)
                    matched.Add((d.Recipient, r));
            if (matched.Count == 0)
                return ([], $"the report names none of the recipients of message {message.Id}");
        }

        // Step 4: record.
        var content = Encoding.UTF8.GetString(report.Raw, 0, Math.Min(report.Raw.Length, MaxContentChars));
        var recorded = new List<(Bounce Bounce, string Email)>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var (email, reported) in matched)
        {
            var type = reported?.Type ?? parsed.Type;
            var suppress = reported?.Suppress ?? type.SuppressesRecipient;
            var details = reported?.Diagnostic ?? reported?.Status ?? parsed.FeedbackType ?? parsed.Subject ?? "";
            var bounce = await bounces.AddAsync(db, new BounceFacts(serverId, message.Stream, message.Id, email, type, details,
                message.From, message.Subject, message.Tag, content, suppress), ct);
            recorded.Add((bounce, email));
        }
        await db.SaveChangesAsync(ct);
        foreach (var (bounce, email) in recorded)
            db.MessageEvents.Add(new MessageEvent
            {
                MessageId = message.Id,
                ServerId = serverId,
                Recipient = email,
                Type = MessageEventType.Bounced,
                At = now,
                DetailsJson = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["Summary"] = $"{bounce.Type.Name}: {bounce.Details}",
                    ["BounceID"] = bounce.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }),
            });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (recorded.Any(r => r.Bounce.Type is BounceType.HardBounce or BounceType.SpamComplaint))
            await breaker.CheckAsync(db, serverId, message.Stream, ct);
        return (recorded.Select(r => r.Bounce).ToList(), $"{recorded.Count} bounce(s) for message {message.Id}");
    }

    /// <summary>Mailroom's Message-ID header is <c>&lt;guid@domain&gt;</c>; anything else names no message of ours.</summary>
    private static Guid IdFromMessageIdHeader(string header)
    {
        var local = header.Trim().Trim('<', '>');
        var at = local.IndexOf('@');
        return Guid.TryParse(at < 0 ? local : local[..at], out var id) ? id : Guid.Empty;
    }

    private static bool Same(string? a, string b) => a is not null && a.Trim().Equals(b, StringComparison.OrdinalIgnoreCase);

    private static string Cut(string s, int max) => s.Length <= max ? s : s[..max];
}

/// <summary>
/// Which envelope recipients the MX listener accepts: addresses at a return-path host Mailroom manages (a
/// customer domain's Return-Path domain, or the platform's own return-path host). Anything else is refused at
/// RCPT: the listener is not a relay (RFC 5321 §3.6.2).
/// </summary>
public sealed class ReturnPathHosts(MailroomDb db, PlatformSettings platform)
{
    public async Task<bool> IsManagedAsync(string domain, CancellationToken ct)
    {
        domain = domain.Trim().TrimEnd('.').ToLowerInvariant();
        if (domain.Length == 0)
            return false;
        if (domain == platform.ReturnPathHost.ToLowerInvariant())
            return true;
        return await db.Domains.AnyAsync(d => d.ReturnPathDomain == domain, ct);
    }
}
