using Mailroom.Mail.Arf;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Parses a message received at a return path (bounce address) into a <see cref="BounceReport"/>:
/// RFC 3464 DSNs, non-standard text bounces, Amazon SES notifications, RFC 5965 complaints (via
/// <see cref="ArfParser"/>), auto-replies (RFC 3834), challenge/response mails and address-change
/// notices. Pure: reads only the given message, no I/O, no clock. Never throws: anything it cannot make
/// sense of is <see cref="BounceReportKind.None"/> / <see cref="BounceType.Unknown"/>.
/// </summary>
public static class BounceParser
{
    public static BounceReport Parse(MimeMessage message)
    {
        try
        {
            return ParseCore(message);
        }
        catch (Exception)
        {
            return BounceReport.NotRecognised;
        }
    }

    /// <summary>Loads the message with a bounded MIME depth, then parses it. Never throws.</summary>
    public static BounceReport Parse(Stream stream)
    {
        try
        {
            var options = new ParserOptions { MaxMimeDepth = NotificationParts.MaxDepth };
            using var message = MimeMessage.Load(options, stream);
            return Parse(message);
        }
        catch (Exception)
        {
            return BounceReport.NotRecognised;
        }
    }

    /// <summary>The parse without the catch-all, so tests can prove real input never relies on it.</summary>
    internal static BounceReport ParseCore(MimeMessage message)
    {
        var parts = NotificationParts.Read(message);
        var subject = TextBounceReader.SubjectOf(message);
        var returnedTo = ReturnedTo(message);

        // The report proper ends where the quoted copy of the original message starts.
        var (reportText, quoted) = OriginalMessageReader.SplitAtMarker(parts.Text, allowHeaderBlockMarker: parts.Enclosed.Count == 0);
        var original = parts.Enclosed.Count > 0 ? OriginalMessageReader.From(parts.Enclosed[0])
            : quoted is not null && OriginalMessageReader.ParseQuoted(quoted) is { } copy ? OriginalMessageReader.From(copy)
            : null;

        if (ArfParser.TryRead(parts) is { } complaint)
            return FromComplaint(complaint, returnedTo, subject);

        if (AmazonSesNotificationReader.TryRead(parts.Text, returnedTo, subject) is { } ses)
            return ses;

        var challenge = AutoReplyDetector.IsChallenge(message, parts.Text);

        var excluded = ExcludedAddresses(message, original);
        var dsn = DeliveryStatusReader.TryRead(parts, reportText, challenge, excluded);
        if (dsn is { Recipients.Count: > 0 })
            return Report(challenge ? BounceReportKind.ChallengeResponse : BounceReportKind.DeliveryStatusNotification,
                dsn.Recipients, dsn.ReportingMta, original, returnedTo, subject);

        if (dsn is not null || (!challenge && TextBounceReader.LooksLikeNonDelivery(message, reportText)))
        {
            var recipients = ReadText(message, reportText, original, excluded, challenge);
            var fallbackType = recipients.Count == 0 ? SmtpReplyClassifier.Classify(0, null, reportText) : BounceType.Unknown;
            return Report(challenge ? BounceReportKind.ChallengeResponse
                : dsn is not null ? BounceReportKind.DeliveryStatusNotification : BounceReportKind.TextNotification,
                recipients, dsn?.ReportingMta, original, returnedTo, subject, fallbackType);
        }

        var sender = message.From.Mailboxes.FirstOrDefault()?.Address;
        original ??= InReplyTo(message);
        if (challenge)
        {
            // The address we mailed: named by the challenge system, or the original's single recipient,
            // or the sender, unless the sender is the challenge service itself (then its Reply-To).
            var who = AddressOf(message.Headers["X-Bluebottle-Address"])
                ?? (original?.To is [var only] ? only : null)
                ?? (AutoReplyDetector.IsChallengeService(message) ? message.ReplyTo.Mailboxes.FirstOrDefault()?.Address : null)
                ?? sender;
            return Single(BounceReportKind.ChallengeResponse, BounceType.ChallengeVerification, who, reportText, original, returnedTo, subject);
        }
        if (TextBounceReader.IsListPostingRefusal(message, reportText))
        {
            // The refused recipient is the list: the address the original was sent to, else the first one the notice names.
            var list = original?.To.FirstOrDefault(a => BounceAddresses.AddressPattern().IsMatch(a))
                ?? BounceAddresses.FindIn(reportText, excluded).Select(f => f.Address).FirstOrDefault();
            List<BouncedRecipient> refused = list is null ? [] :
            [
                new BouncedRecipient
                {
                    Email = list,
                    Action = "failed",
                    Diagnostic = SmtpReplyText.Tidy(reportText, 500) is { Length: > 0 } d ? d : null,
                    Type = BounceType.Blocked,
                    Suppress = false,
                },
            ];
            return Report(BounceReportKind.TextNotification, refused, null, original, returnedTo, subject, BounceType.Blocked);
        }
        if (AutoReplyDetector.IsAddressChange(message, reportText) && (AutoReplyDetector.IsAutoReply(message, reportText) || TextBounceReader.IsDaemonSender(message) || message.Headers.Contains("Auto-Submitted")))
            return Single(BounceReportKind.AddressChange, BounceType.AddressChange, sender, reportText, original, returnedTo, subject);
        if (AutoReplyDetector.IsAutoReply(message, reportText))
            return Single(BounceReportKind.AutoReply, BounceType.AutoResponder, sender, reportText, original, returnedTo, subject);

        return BounceReport.NotRecognised with { ReturnedTo = returnedTo, Subject = subject, Original = original };
    }

    /// <summary>Recipients of a non-standard bounce, one per address located in the text.</summary>
    private static List<BouncedRecipient> ReadText(MimeMessage message, string reportText, OriginalMessage? original, BounceAddresses.Exclusions excluded, bool challenge)
    {
        // Exim and Gmail name the failed recipients in X-Failed-Recipients.
        var known = BounceAddresses.OfHeader(message.Headers, "X-Failed-Recipients").Distinct(StringComparer.OrdinalIgnoreCase).Take(BounceAddresses.MaxCandidates).ToList();
        var paragraphs = TextBounceReader.Read(reportText, known, excluded);
        if (paragraphs.Count == 0 && original is not null)
            paragraphs = [.. original.To.Where(a => BounceAddresses.AddressPattern().IsMatch(a)).Take(BounceAddresses.MaxCandidates)
                .Select(a => new TextBounceReader.Paragraph(a, null))];

        var delay = TextBounceReader.LooksLikeDelay(TextBounceReader.SubjectOf(message), reportText);
        var groupRefusal = TextBounceReader.IsGoogleGroupsRefusal(message, reportText);
        var single = paragraphs.Count == 1;
        var recipients = new List<BouncedRecipient>();
        foreach (var p in paragraphs)
        {
            var whole = single || p.Text is null ? reportText : null;
            var status = EnhancedStatusCode.Find(p.Text) ?? EnhancedStatusCode.Find(whole);
            var code = SmtpReplyText.FindSmtpCode(p.Text) ?? SmtpReplyText.FindSmtpCode(whole);
            var type = SmtpReplyClassifier.Classify(code ?? 0, status, [p.Text, whole]);
            // A delay is not final: never a hard bounce; a stated temporary cause keeps its type.
            if (delay)
                type = SmtpReplyClassifier.ForDelay(type);
            else if (type == BounceType.Unknown && groupRefusal)
                type = BounceType.Blocked;
            if (challenge)
                type = BounceType.ChallengeVerification;
            recipients.Add(new BouncedRecipient
            {
                Email = p.Email,
                Action = delay ? "delayed" : "failed",
                Status = status?.ToString(),
                SmtpCode = code,
                Diagnostic = DiagnosticOf(p.Text ?? whole, p.Email),
                Type = type,
                Suppress = type.SuppressesRecipient,
            });
        }
        return recipients;
    }

    /// <summary>The paragraph from the SMTP reply on, or without the leading address line; one line.</summary>
    private static string? DiagnosticOf(string? paragraph, string email)
    {
        if (string.IsNullOrWhiteSpace(paragraph))
            return null;
        var text = paragraph;
        var reply = SmtpReplyText.ReplyStart(text);
        if (reply > 0)
            text = text[reply..];
        var firstBreak = text.IndexOf('\n');
        if (firstBreak > 0 && text[..firstBreak].Trim().Trim('<', '>', ':', '"', ' ').Equals(email, StringComparison.OrdinalIgnoreCase))
            text = text[(firstBreak + 1)..];
        var tidy = SmtpReplyText.Tidy(text, 1000);
        return tidy.Length > 0 ? tidy : null;
    }

    private static BounceReport Report(BounceReportKind kind, List<BouncedRecipient> recipients, string? reportingMta,
        OriginalMessage? original, string? returnedTo, string? subject, BounceType fallbackType = BounceType.Unknown)
    {
        // The first failed recipient with a classification speaks for the message; a recipient nothing could be
        // said about (an address the notice merely mentions) does not hide a classified one.
        var type = recipients.FirstOrDefault(r => r.Action == "failed" && r.Type != BounceType.Unknown)?.Type
            ?? recipients.FirstOrDefault(r => r.Action == "failed")?.Type
            ?? recipients.FirstOrDefault()?.Type
            ?? (kind == BounceReportKind.ChallengeResponse ? BounceType.ChallengeVerification : fallbackType);
        // A "failure" every recipient of which is a challenge ("this server requires confirmation") is a
        // challenge/response request: the mail waits for the sender's answer, nothing failed for good.
        if (recipients.Count > 0 && recipients.TrueForAll(r => r.Type == BounceType.ChallengeVerification))
            kind = BounceReportKind.ChallengeResponse;
        return new BounceReport
        {
            Kind = kind,
            Type = type,
            Recipients = recipients,
            ReportingMta = reportingMta,
            Original = original,
            ReturnedTo = returnedTo,
            Subject = subject,
        };
    }

    private static BounceReport Single(BounceReportKind kind, BounceType type, string? email, string text,
        OriginalMessage? original, string? returnedTo, string? subject) => new()
    {
        Kind = kind,
        Type = type,
        Recipients = string.IsNullOrEmpty(email) ? [] :
        [
            new BouncedRecipient
            {
                Email = email,
                Type = type,
                Suppress = type.SuppressesRecipient,
                Diagnostic = SmtpReplyText.Tidy(text, 500) is { Length: > 0 } d ? d : null,
            },
        ],
        Original = original,
        ReturnedTo = returnedTo,
        Subject = subject,
    };

    private static BounceReport FromComplaint(ComplaintReport complaint, string? returnedTo, string? subject) => new()
    {
        Kind = complaint.Format == ComplaintFormat.AmazonSes ? BounceReportKind.AmazonSesNotification : BounceReportKind.FeedbackReport,
        Type = complaint.Type,
        FeedbackType = complaint.FeedbackType,
        Recipients =
        [
            .. complaint.Recipients.Select(email => new BouncedRecipient
            {
                Email = email,
                Type = complaint.Type,
                Suppress = complaint.ShouldSuppress,
                Diagnostic = complaint.FeedbackType is null ? null : $"Feedback-Type: {complaint.FeedbackType}",
            }),
        ],
        Original = complaint.Original,
        ReturnedTo = returnedTo,
        Subject = subject,
    };

    /// <summary>
    /// The notice's own sender addresses and the original's sender: never the failed recipient. The bounce's
    /// own recipients (To, Delivered-To …): normally the return path, but a bounce may be addressed to the
    /// failed recipient itself (forwarding, a local delivery failure), so they are only demoted.
    /// </summary>
    private static BounceAddresses.Exclusions ExcludedAddresses(MimeMessage message, OriginalMessage? original)
    {
        var own = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var demoted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in (ReadOnlySpan<string>)["From", "Reply-To", "Sender", "Return-Path"])
            foreach (var address in BounceAddresses.OfHeader(message.Headers, field))
                own.Add(address);
        foreach (var field in (ReadOnlySpan<string>)["To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To"])
            foreach (var address in BounceAddresses.OfHeader(message.Headers, field))
                demoted.Add(address);
        if (original is not null)
        {
            if (original.From is { } from)
                own.Add(from);
            if (original.ReturnPath is { } rp)
                own.Add(rp);
            foreach (var field in (ReadOnlySpan<string>)["Sender", "Reply-To"])
                if (original.Header(field) is { } value && BounceAddresses.AddressPattern().Match(value) is { Success: true } m)
                    own.Add(m.Value);
        }
        // An address that is both (a bounce sent back to the sender's own mailbox) stays excluded.
        demoted.ExceptWith(own);
        return new BounceAddresses.Exclusions(own, demoted);
    }

    private static string? ReturnedTo(MimeMessage message) =>
        AddressOf(message.Headers["X-Original-To"])
        ?? AddressOf(message.Headers["Delivered-To"])
        ?? message.To.Mailboxes.FirstOrDefault()?.Address;

    private static string? AddressOf(string? value) =>
        value is not null && BounceAddresses.AddressPattern().Match(value) is { Success: true } m ? m.Value : null;

    private static OriginalMessage? InReplyTo(MimeMessage message) =>
        OriginalMessageReader.CleanId(message.Headers["In-Reply-To"]) is { } id ? new OriginalMessage { MessageId = id } : null;
}
