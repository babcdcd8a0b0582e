using System.Globalization;
using System.Text;
using System.Text.Json;
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
/// 2. proof: is an envelope recipient (RCPT TO: where the report was sent) a VERP address whose MAC is right for its
///    message, index and domain (<see cref="VerpSigner.Verify"/>)? Anyone can choose the address, but only Mailroom
///    and that recipient's mail system know the right MAC, so a report sent there comes from one of them;
/// 3. proven: the delivery at that index must be the address the report names (when it names one); a bounce is
///    recorded for that one recipient, and a hard bounce or complaint suppresses it (<see cref="BounceRecorder"/>);
/// 4. not proven (bare <c>pm_bounces@host</c>, a wrong MAC, or a message found only through the report's body:
///    Message-ID, X-PM-Message-Id, a VERP address quoted in it — all known to anyone who got a copy): information
///    only, a Bounced event on the message saying <c>Verified: False</c>, no bounce record, no suppression, nothing
///    the breaker counts; and only for a message of the account that owns the host the report was sent to
///    (<see cref="ReturnPathHosts.OwnerAsync"/>; the platform's own host belongs to none, so there nothing
///    unproven matches), sent with that host as its return path.
/// A report that matches nothing is kept (state Unmatched) and logged; nothing here throws to the listener.
/// </summary>
public sealed class InboundReportProcessor(MailroomDb db, BounceRecorder bounces, StreamBreaker breaker, VerpKeyring verpKeys,
    ReturnPathHosts hosts, TimeProvider clock, ILogger<InboundReportProcessor> log)
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

    /// <summary>Processes one stored report; returns the bounces it recorded (none when it matched nothing or was
    /// information only).</summary>
    public async Task<IReadOnlyList<Bounce>> ProcessAsync(long reportId, CancellationToken ct)
    {
        var report = await db.InboundReports.FirstOrDefaultAsync(r => r.Id == reportId, ct);
        if (report is null || report.State != InboundReportState.Pending)
            return [];
        try
        {
            var (recorded, informational, note) = await MatchAndRecordAsync(report, ct);
            report.State = recorded.Count + informational > 0 ? InboundReportState.Processed : InboundReportState.Unmatched;
            report.Note = Cut(note, 500);
            await db.SaveChangesAsync(ct);
            if (report.State == InboundReportState.Unmatched)
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

    private sealed record MatchedMessage(Guid Id, int? AccountId, int? ServerId, string Stream, string From, string Subject, string Tag, string ReturnPathDomain);

    private async Task<(List<Bounce> Recorded, int Informational, string Note)> MatchAndRecordAsync(InboundReport report, CancellationToken ct)
    {
        var parsed = BounceParser.Parse(new MemoryStream(report.Raw, writable: false));
        if (parsed.Kind == BounceReportKind.None)
            return ([], 0, "not recognised as a bounce, complaint or auto-reply");

        // Step 2: proof. The envelope recipient is where the report was sent; a signed VERP address there proves the
        // sender knew the return path of that one recipient's copy.
        var signer = await verpKeys.SignerAsync(ct);
        var envelope = report.Recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var rcpt in envelope)
            if (signer.TryDecodeVerified(rcpt, out var proven))
            {
                var (recorded, note) = await MatchProvenAsync(report, parsed, proven, ct);
                return (recorded, 0, note);
            }
        return await MatchUnprovenAsync(parsed, envelope, ct);
    }

    private Task<MatchedMessage?> FindMessageAsync(Guid id, CancellationToken ct) =>
        db.OutboundMessages.AsNoTracking().Where(m => m.Id == id)
            .Select(m => new MatchedMessage(m.Id, m.AccountId, m.ServerId, m.Stream, m.From, m.Subject, m.Tag, m.ReturnPathDomain))
            .FirstOrDefaultAsync(ct);

    /// <summary>Step 3: a report at a signed VERP address, about the recipient at its index only.</summary>
    private async Task<(List<Bounce> Recorded, string Note)> MatchProvenAsync(InboundReport report, BounceReport parsed, VerpAddress verp, CancellationToken ct)
    {
        var message = await FindMessageAsync(verp.MessageId, ct);
        if (message?.ServerId is not { } serverId)
            return ([], $"message {verp.MessageId} is not known (or is the platform's own mail)");
        // The MAC covers the domain, so this holds for every address Mailroom made; it is checked all the same.
        if (!string.Equals(message.ReturnPathDomain, verp.Domain, StringComparison.OrdinalIgnoreCase))
            return ([], $"message {message.Id} was sent with return path {message.ReturnPathDomain}, not {verp.Domain}");
        var delivery = await db.Deliveries.AsNoTracking().Where(d => d.MessageId == message.Id && d.RecipientIndex == verp.RecipientIndex)
            .Select(d => new { d.RecipientIndex, d.Recipient }).FirstOrDefaultAsync(ct);
        if (delivery is null)
            return ([], $"message {message.Id} has no recipient at index {verp.RecipientIndex}");

        // The report must name the delivery at that index when it names anyone: a recipient's mail system tells of
        // that recipient, and a report about someone else at this address is not one Mailroom can place.
        var failed = parsed.Recipients.Where(r => r.Action is null or "failed" or "delayed").ToList();
        BouncedRecipient? reported;
        if (parsed.Recipients.Count == 0)
            reported = null;
        else if (failed.FirstOrDefault(r => Same(r.Email, delivery.Recipient) || Same(r.OriginalRecipient, delivery.Recipient)) is { } named)
            reported = named;
        else if (parsed.Recipients.Any(r => Same(r.Email, delivery.Recipient) || Same(r.OriginalRecipient, delivery.Recipient)))
            return ([], "the report only tells of a successful delivery");
        else if (parsed.Kind is BounceReportKind.AutoReply or BounceReportKind.AddressChange or BounceReportKind.ChallengeResponse
                 && failed.Count > 0 && failed.All(r => !r.Suppress))
            // An out-of-office often answers from another address of the recipient (an alias, a forward). It
            // suppresses nothing, so the VERP index alone cannot deactivate anyone.
            reported = failed[0];
        else
            return ([], $"the report names none of the recipients of message {message.Id} at index {verp.RecipientIndex}");

        var content = Encoding.UTF8.GetString(report.Raw, 0, Math.Min(report.Raw.Length, MaxContentChars));
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var type = reported?.Type ?? parsed.Type;
        var suppress = reported?.Suppress ?? type.SuppressesRecipient;
        var details = reported?.Diagnostic ?? reported?.Status ?? parsed.FeedbackType ?? parsed.Subject ?? "";
        var bounce = await bounces.AddAsync(db, new BounceFacts(serverId, message.Stream, message.Id, delivery.Recipient, type, details,
            message.From, message.Subject, message.Tag, content, suppress), ct);
        await db.SaveChangesAsync(ct);
        db.MessageEvents.Add(new MessageEvent
        {
            MessageId = message.Id,
            ServerId = serverId,
            Recipient = delivery.Recipient,
            Type = MessageEventType.Bounced,
            At = now,
            DetailsJson = JsonSerializer.Serialize(WithBounce(EventDetails.Bounced($"{bounce.Type.Name}: {bounce.Details}"), bounce.Id)),
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (bounce.Type is BounceType.HardBounce or BounceType.SpamComplaint)
            await breaker.CheckAsync(db, serverId, message.Stream, ct);
        return ([bounce], $"1 bounce for message {message.Id} (signed return path)");
    }

    /// <summary>
    /// Step 4: a report that proves nothing. Told to the owner of the receiving host as an event on its own message,
    /// for each failed recipient of that message the report names; never a bounce record or a suppression.
    /// </summary>
    private async Task<(List<Bounce> Recorded, int Informational, string Note)> MatchUnprovenAsync(BounceReport parsed, string[] envelope, CancellationToken ct)
    {
        var owners = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var host in envelope.Select(r => EmailAddress.DomainOf(r.Trim('<', '>'))).Distinct(StringComparer.OrdinalIgnoreCase))
            if (await hosts.OwnerAsync(host, ct) is { } owner)
                owners[host] = owner;
        if (owners.Count == 0)
            return ([], 0, "not sent to a signed VERP address, and the receiving host belongs to no single account: unproven reports are matched only at an account's own verified return-path host");

        // Which message: whatever the report names. All of it is the sender's to write, so it only counts for a
        // message of the host's owner that was sent with that host as its return path.
        var candidates = new List<Guid>();
        foreach (var address in envelope.Append(parsed.ReturnedTo).Append(parsed.Original?.ReturnPath))
            if (Verp.TryDecode(address, out var v))
                candidates.Add(v.MessageId);
        if (parsed.Original?.PostmarkMessageId is { } pm && Guid.TryParse(pm, out var g))
            candidates.Add(g);
        if (parsed.Original?.MessageId is { } mid && IdFromMessageIdHeader(mid) is var fromHeader && fromHeader != Guid.Empty)
            candidates.Add(fromHeader);
        if (candidates.Count == 0)
            return ([], 0, "no VERP address or known Message-ID names the original message");

        MatchedMessage? message = null;
        foreach (var id in candidates.Distinct())
            if (await FindMessageAsync(id, ct) is { AccountId: { } account, ServerId: not null } m
                && owners.TryGetValue(m.ReturnPathDomain, out var owner) && owner == account)
            {
                message = m;
                break;
            }
        if (message is null)
            return ([], 0, $"the report names no message of the account that owns {string.Join(", ", owners.Keys)} sent with that return path");

        var deliveries = await db.Deliveries.AsNoTracking().Where(d => d.MessageId == message.Id).Select(d => d.Recipient).ToListAsync(ct);
        var matched = new List<(string Email, BouncedRecipient Reported)>();
        foreach (var r in parsed.Recipients.Where(r => r.Action is null or "failed" or "delayed"))
            if (deliveries.FirstOrDefault(d => Same(r.Email, d) || Same(r.OriginalRecipient, d)) is { } email && matched.All(x => x.Email != email))
                matched.Add((email, r));
        if (matched.Count == 0)
            return ([], 0, $"the report names none of the recipients of message {message.Id}");

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (email, reported) in matched)
            db.MessageEvents.Add(new MessageEvent
            {
                MessageId = message.Id,
                ServerId = message.ServerId!.Value,
                Recipient = email,
                Type = MessageEventType.Bounced,
                At = now,
                DetailsJson = JsonSerializer.Serialize(EventDetails.UnverifiedReport(
                    Cut($"Unverified report ({reported.Type.Name}: {reported.Diagnostic ?? reported.Status ?? parsed.FeedbackType ?? parsed.Subject ?? ""}); "
                        + "it did not come to the message's signed return path, so nothing was suppressed.", 4000))),
            });
        await db.SaveChangesAsync(ct);
        return ([], matched.Count, $"information only: {matched.Count} unverified report(s) for message {message.Id}, nothing suppressed");
    }

    private static Dictionary<string, string> WithBounce(Dictionary<string, string> details, long bounceId)
    {
        EventDetails.SetBounce(details, bounceId);
        return details;
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
/// customer domain's or sender signature's Return-Path domain, or the platform's own return-path host). Anything
/// else is refused at RCPT: the listener is not a relay (RFC 5321 §3.6.2). And who owns such a host, for reports
/// that prove nothing (<see cref="InboundReportProcessor"/>).
/// </summary>
public sealed class ReturnPathHosts(MailroomDb db, PlatformSettings platform)
{
    public async Task<bool> IsManagedAsync(string domain, CancellationToken ct)
    {
        domain = Normalize(domain);
        if (domain.Length == 0)
            return false;
        if (domain == Normalize(platform.ReturnPathHost))
            return true;
        // The hosted DMARC reporting addresses (<token>@dmarc.<mail domain>) come in on the same listener.
        if (domain == Dmarc.DmarcService.ReportingHost(platform))
            return true;
        return await db.Domains.AnyAsync(d => d.ReturnPathDomain == domain, ct)
            || await db.SenderSignatures.AnyAsync(s => s.ReturnPathDomain == domain, ct);
    }

    /// <summary>
    /// The one account with a verified Return-Path at <paramref name="domain"/> (its domain's or a sender signature's
    /// CNAME checked), or null: for the platform's own host (every account's mail uses it), for a host nobody has
    /// verified (anyone can add any domain; unverified, no message was sent with it), and for a host two accounts
    /// verified (a CNAME proves the host points here, not which account set it up).
    /// </summary>
    public async Task<int?> OwnerAsync(string domain, CancellationToken ct)
    {
        domain = Normalize(domain);
        if (domain.Length == 0 || domain == Normalize(platform.ReturnPathHost))
            return null;
        var accounts = await db.Domains.Where(d => d.ReturnPathDomain == domain && d.ReturnPathVerified).Select(d => d.AccountId)
            .Union(db.SenderSignatures.Where(s => s.ReturnPathDomain == domain && s.ReturnPathVerified).Select(s => s.AccountId))
            .Distinct().Take(2).ToListAsync(ct);
        return accounts.Count == 1 ? accounts[0] : null;
    }

    private static string Normalize(string domain) => domain.Trim().TrimEnd('.').ToLowerInvariant();
}
