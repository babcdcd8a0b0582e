namespace Mailroom.Mail.Bounces;

/// <summary>How a message was recognised.</summary>
public enum BounceReportKind
{
    /// <summary>Not recognised as a bounce, auto-reply, challenge or complaint.</summary>
    None = 0,
    /// <summary>RFC 3464 delivery status notification (<c>multipart/report; report-type=delivery-status</c>).</summary>
    DeliveryStatusNotification,
    /// <summary>A non-standard, human-readable non-delivery report (Exim, qmail, Gmail, Exchange …).</summary>
    TextNotification,
    /// <summary>An Amazon SES bounce, complaint or delivery notification (JSON in the body).</summary>
    AmazonSesNotification,
    /// <summary>An RFC 5965 feedback report (spam complaint), or a Microsoft JMRP report.</summary>
    FeedbackReport,
    /// <summary>An automatic reply such as out-of-office (RFC 3834).</summary>
    AutoReply,
    /// <summary>A challenge/response request asking the sender to verify itself.</summary>
    ChallengeResponse,
    /// <summary>A notice that the recipient's address has changed.</summary>
    AddressChange,
}

/// <summary>What <see cref="BounceParser"/> found in one message.</summary>
public sealed record BounceReport
{
    public required BounceReportKind Kind { get; init; }

    /// <summary>
    /// Message-level classification: the type of the first recipient whose delivery failed, else of the
    /// first recipient, else what the message as a whole was recognised as.
    /// </summary>
    public required BounceType Type { get; init; }

    public IReadOnlyList<BouncedRecipient> Recipients { get; init; } = [];

    /// <summary>RFC 3464 §2.2.2 <c>Reporting-MTA</c> (type prefix removed), when given.</summary>
    public string? ReportingMta { get; init; }

    /// <summary>RFC 5965 §3.1 <c>Feedback-Type</c> (lower case) for complaints.</summary>
    public string? FeedbackType { get; init; }

    /// <summary>The original message, from the enclosed <c>message/rfc822</c> or <c>text/rfc822-headers</c> part or the copy quoted in the text.</summary>
    public OriginalMessage? Original { get; init; }

    /// <summary>
    /// Where the notification was delivered to: <c>X-Original-To</c>, else <c>Delivered-To</c>, else the
    /// first <c>To</c> address. For bounces this is normally the envelope sender (VERP return path) of
    /// the original message.
    /// </summary>
    public string? ReturnedTo { get; init; }

    /// <summary>Subject of the notification itself.</summary>
    public string? Subject { get; init; }

    /// <summary>True when at least one recipient's delivery failed or was delayed (not for auto-replies, challenges or complaints).</summary>
    public bool IsDeliveryFailure =>
        Kind is BounceReportKind.DeliveryStatusNotification or BounceReportKind.TextNotification or BounceReportKind.AmazonSesNotification
        && Recipients.Any(r => r.Action is "failed" or "delayed");

    /// <summary>True when any recipient should be suppressed.</summary>
    public bool ShouldSuppress => Recipients.Any(r => r.Suppress);

    internal static BounceReport NotRecognised { get; } = new() { Kind = BounceReportKind.None, Type = BounceType.Unknown };
}

/// <summary>One recipient of a bounce or complaint.</summary>
public sealed record BouncedRecipient
{
    /// <summary>
    /// The recipient: RFC 3464 §2.3.2 <c>Final-Recipient</c> with the address type removed, or the address
    /// found in a text bounce, the complainant (RFC 5965 <c>Original-Rcpt-To</c>), or the sender of an
    /// auto-reply. Usually an address; may be a local name, file or pipe for local deliveries.
    /// </summary>
    public required string Email { get; init; }

    /// <summary>RFC 3464 §2.3.1 <c>Original-Recipient</c>, type removed.</summary>
    public string? OriginalRecipient { get; init; }

    /// <summary>RFC 3464 §2.3.3 action, lower case: failed, delayed, delivered, relayed, expanded. Null for auto-replies and complaints.</summary>
    public string? Action { get; init; }

    /// <summary>Enhanced status code (RFC 3463), as reported: the DSN <c>Status</c> field, else the code found in the bounce text.</summary>
    public string? Status { get; init; }

    /// <summary>Basic SMTP reply code (RFC 5321 §4.2) of the remote server, when found.</summary>
    public int? SmtpCode { get; init; }

    /// <summary>The remote server's reply or the bounce's explanation, on one line.</summary>
    public string? Diagnostic { get; init; }

    /// <summary>RFC 3464 §2.3.6 diagnostic type (<c>smtp</c>, <c>X-Postfix</c>, …), when given.</summary>
    public string? DiagnosticType { get; init; }

    /// <summary>RFC 3464 §2.3.5 <c>Remote-MTA</c>, type removed.</summary>
    public string? RemoteMta { get; init; }

    public required BounceType Type { get; init; }

    /// <summary>Whether Mailroom should suppress (deactivate) this address. Normally <c>Type.SuppressesRecipient</c>.</summary>
    public required bool Suppress { get; init; }

    /// <summary>2, 4 or 5: from <see cref="Status"/>, else <see cref="SmtpCode"/>, else <see cref="Action"/>; null when nothing says.</summary>
    public int? StatusClass =>
        EnhancedStatusCode.TryParse(Status, out var s) ? s.Class
        : SmtpCode is >= 200 and < 600 ? SmtpCode / 100
        : Action switch
        {
            "failed" => 5,
            "delayed" => 4,
            "delivered" or "relayed" or "expanded" => 2,
            _ => null,
        };
}

/// <summary>What is known of the message that bounced or was complained about.</summary>
public sealed record OriginalMessage
{
    /// <summary><c>Message-ID</c> without angle brackets.</summary>
    public string? MessageId { get; init; }

    /// <summary>Postmark-style <c>X-PM-Message-Id</c> header, which Mailroom stamps on outgoing mail.</summary>
    public string? PostmarkMessageId { get; init; }

    public string? Subject { get; init; }
    public string? From { get; init; }
    public IReadOnlyList<string> To { get; init; } = [];

    /// <summary><c>Return-Path</c> without angle brackets: the envelope sender (VERP address) if the copy kept it.</summary>
    public string? ReturnPath { get; init; }

    /// <summary>All headers of the copy, in order (at most 500).</summary>
    public IReadOnlyList<MessageHeader> Headers { get; init; } = [];

    /// <summary>The first value of the named header, or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value;
}

/// <summary>One header field of an original message.</summary>
public sealed record MessageHeader(string Name, string Value);
