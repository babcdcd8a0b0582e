using System.Text.Json;
using System.Text.RegularExpressions;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Events;

public enum UnsubscribeOutcome { Unsubscribed, AlreadyUnsubscribed, Invalid }

/// <summary>
/// A recipient's unsubscribe from one stream (spec §7.2: ManualSuppression with origin Recipient, which the customer
/// cannot delete), by any of the three ways its links offer: the one-click POST (RFC 8058 §3.2), the hosted page's
/// confirm button, or an email to the mailto URI (RFC 2369 §3.2) that reaches the MX listener. In one transaction:
/// the suppression in that stream only, a SubscriptionChanged event on the message (while it is kept) and the
/// SubscriptionChange webhook. The next send to the recipient on that stream answers 406; other streams still deliver.
/// </summary>
public sealed partial class UnsubscribeService(MailroomDb db, UnsubscribeKeyring keys, PlatformSettings platform,
    Webhooks.WebhookOutbox webhooks, TimeProvider clock, ILogger<UnsubscribeService> log)
{
    /// <summary>The local part of the mailto address, at the platform's return-path host (which the MX listener takes).</summary>
    public const string MailboxLocalPart = "unsubscribe";

    public static string HttpsUrl(PlatformSettings platform, string token) => $"{platform.PublicUrl.TrimEnd('/')}/unsubscribe/{token}";

    public static string MailboxAddress(PlatformSettings platform) => $"{MailboxLocalPart}@{platform.ReturnPathHost}";

    /// <summary>The token travels in the subject (RFC 6068 §2 hfields), since a local part holds only 64 octets.</summary>
    public static string MailtoUrl(PlatformSettings platform, string token) => $"mailto:{MailboxAddress(platform)}?subject=unsubscribe-{token}";

    [GeneratedRegex(@"unsubscribe-([A-Za-z0-9_-]{20,2000})", RegexOptions.CultureInvariant)]
    private static partial Regex SubjectToken();

    /// <summary>The stream and recipient a token names, for the confirmation page; null when it is not ours.</summary>
    public async Task<UnsubscribeTarget?> ReadAsync(string token, CancellationToken ct) =>
        (await keys.TokensAsync(ct)).TryRead(token, out var t) ? t : null;

    public async Task<UnsubscribeOutcome> UnsubscribeAsync(string token, CancellationToken ct)
    {
        if (!(await keys.TokensAsync(ct)).TryRead(token, out var t))
            return UnsubscribeOutcome.Invalid;
        if (!await db.MessageStreams.AnyAsync(s => s.ServerId == t.ServerId && s.StreamId == t.Stream, ct))
            return UnsubscribeOutcome.Invalid; // the server or stream is gone: nothing left to unsubscribe from
        var email = t.Recipient;
        if (await db.Suppressions.AnyAsync(s => s.ServerId == t.ServerId && s.Stream == t.Stream && s.Email == email, ct))
            return UnsubscribeOutcome.AlreadyUnsubscribed;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var message = await db.OutboundMessages.AsNoTracking().Where(m => m.Id == t.MessageId && m.ServerId == t.ServerId)
            .Select(m => new { m.Tag }).FirstOrDefaultAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var suppression = new Suppression
        {
            ServerId = t.ServerId, Stream = t.Stream, Email = email, Reason = SuppressionReason.ManualSuppression,
            Origin = SuppressionOrigin.Recipient, CreatedAt = now,
        };
        db.Suppressions.Add(suppression);
        if (message is not null)
            db.MessageEvents.Add(new MessageEvent
            {
                MessageId = t.MessageId, ServerId = t.ServerId, Recipient = email, Type = MessageEventType.SubscriptionChanged, At = now,
                DetailsJson = JsonSerializer.Serialize(EventDetails.SuppressedByRecipient(nameof(SuppressionReason.ManualSuppression))),
            });
        await webhooks.AddSubscriptionChangeAsync(db, suppression, true, "Recipient", message is null ? null : t.MessageId, message?.Tag ?? "", ct);
        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException e) when (UniqueIndex.IsViolation(e))
        {
            // Two requests at once (a mail client's one-click POST and a click on the page): the unique index let one in.
            db.ChangeTracker.Clear();
            return UnsubscribeOutcome.AlreadyUnsubscribed;
        }
        log.LogInformation("Recipient unsubscribed from stream {Stream} of server {ServerId}", t.Stream, t.ServerId);
        return UnsubscribeOutcome.Unsubscribed;
    }

    /// <summary>
    /// Mail received by the MX listener for the unsubscribe mailbox: the token is looked for in the subject (where the
    /// mailto URI puts it), then in the first text of the body. Returns false when the mail is not for that mailbox.
    /// </summary>
    public async Task<bool> TryProcessInboundAsync(long inboundReportId, CancellationToken ct)
    {
        var report = await db.InboundReports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == inboundReportId, ct);
        if (report is null)
            return false;
        var mailbox = MailboxAddress(platform);
        if (!report.Recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(r => r.Equals(mailbox, StringComparison.OrdinalIgnoreCase)))
            return false;
        if (report.State != InboundReportState.Pending)
            return true;
        string? token = null;
        try
        {
            var mail = await MimeKit.MimeMessage.LoadAsync(new MemoryStream(report.Raw, writable: false), ct);
            token = SubjectToken().Match(mail.Subject ?? "") is { Success: true } s ? s.Groups[1].Value
                : SubjectToken().Match(mail.TextBody ?? "") is { Success: true } b ? b.Groups[1].Value : null;
        }
        catch (FormatException)
        {
        }
        var outcome = token is null ? UnsubscribeOutcome.Invalid : await UnsubscribeAsync(token, ct);
        var state = outcome == UnsubscribeOutcome.Invalid ? InboundReportState.Unmatched : InboundReportState.Processed;
        var note = outcome switch
        {
            UnsubscribeOutcome.Unsubscribed => "unsubscribe by email: recipient suppressed in the stream",
            UnsubscribeOutcome.AlreadyUnsubscribed => "unsubscribe by email: already suppressed",
            _ => "unsubscribe by email: no valid unsubscribe token",
        };
        // A recipient's mail to us: the outcome is what is kept, not the mail.
        await db.InboundReports.Where(r => r.Id == inboundReportId).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.State, state).SetProperty(r => r.Note, note).SetProperty(r => r.Raw, Array.Empty<byte>()), ct);
        return true;
    }
}
