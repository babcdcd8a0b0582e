using Mailroom.Mail.Bounces;

namespace Mailroom.Core.Events;

/// <summary>
/// One bounce of one recipient of one message (spec §6.2): a permanent SMTP refusal seen by delivery, or a
/// report that came back to the return path (RFC 3464 DSN, RFC 5965 complaint, RFC 3834 auto-reply).
/// </summary>
public sealed class Bounce
{
    public long Id { get; set; }
    public int ServerId { get; set; }
    public string Stream { get; set; } = Mailroom.Contracts.DefaultStreams.Outbound;
    /// <summary>The message that bounced; null when the report named no message Mailroom knows.</summary>
    public Guid? MessageId { get; set; }
    /// <summary>Postmark's TypeCode, stored as its number.</summary>
    public BounceType Type { get; set; }
    /// <summary>The recipient, lower-case.</summary>
    public string Email { get; set; } = "";
    public string From { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Tag { get; set; } = "";
    /// <summary>What the remote side said: the SMTP reply or the DSN's Diagnostic-Code.</summary>
    public string Details { get; set; } = "";
    public long BouncedAt { get; set; }
    /// <summary>This bounce made the address inactive (created its suppression) and the suppression still stands.</summary>
    public bool Inactive { get; set; }
    /// <summary>False for spam complaints: only the recipient can take a complaint back.</summary>
    public bool CanActivate { get; set; }
    /// <summary>The raw bounce message (the "dump"), when one was received; null for refusals seen during SMTP.</summary>
    public string? Content { get; set; }
}

/// <summary>
/// A message received by the MX listener, stored before the listener answers 250 (accepted means durable) and
/// then processed into bounces. Kept when it matched nothing, so an operator can look at it.
/// </summary>
public sealed class InboundReport
{
    public long Id { get; set; }
    public long ReceivedAt { get; set; }
    public string MailFrom { get; set; } = "";
    /// <summary>Envelope recipients (RCPT TO), comma-separated.</summary>
    public string Recipients { get; set; } = "";
    public byte[] Raw { get; set; } = [];
    public InboundReportState State { get; set; }
    /// <summary>What processing concluded, for operators ("2 bounces", "no known message", ...).</summary>
    public string Note { get; set; } = "";
}

// Persisted enums carry explicit numbers; EnumNumbersTests freezes them.
public enum InboundReportState { Pending = 0, Processed = 1, Unmatched = 2, Failed = 3 }
