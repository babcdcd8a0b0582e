namespace Mailroom.Core.Inbound;

/// <summary>
/// One message received for one server's inbound stream (one row per accepted envelope recipient). The raw bytes and
/// the envelope are committed before the MX listener answers 250; <see cref="InboundProcessor"/> parses, checks and
/// hands it to the webhooks outbox later, so a crash between the two loses nothing.
/// </summary>
public sealed class InboundMessage
{
    /// <summary>The payload's <c>MessageID</c>.</summary>
    public Guid Id { get; set; }
    public int ServerId { get; set; }
    public long ReceivedAt { get; set; }
    /// <summary>RFC 5321 MAIL FROM ("" for the null reverse path).</summary>
    public string MailFrom { get; set; } = "";
    /// <summary>The envelope recipient (<c>OriginalRecipient</c>).</summary>
    public string Recipient { get; set; } = "";
    /// <summary>The connecting client's address and its EHLO name, for SPF (RFC 7208 §4.1).</summary>
    public string ClientIp { get; set; } = "";
    public string Helo { get; set; } = "";
    public byte[] Raw { get; set; } = [];
    public InboundStatus Status { get; set; }
    /// <summary>Filled by processing: the search columns and the payload without attachment contents or RawEmail.</summary>
    public string FromEmail { get; set; } = "";
    public string Subject { get; set; } = "";
    public string MailboxHash { get; set; } = "";
    public string Tag { get; set; } = "";
    public string SummaryJson { get; set; } = "";
    public string BlockedReason { get; set; } = "";
    /// <summary>The posted event (the webhooks outbox row holds the full payload and the delivery state).</summary>
    public long? WebhookEventId { get; set; }
}

/// <summary>Postmark's inbound statuses (spec §8.2) plus Received (stored, not yet processed; shown as Queued).
/// Persisted numbers are explicit.</summary>
public enum InboundStatus { Received = 0, Queued = 1, Processed = 2, Blocked = 3, Failed = 4, Scheduled = 5 }

/// <summary>An inbound rule trigger (spec §12.1): mail from this address, or from any address at this domain, is blocked.</summary>
public sealed class InboundRule
{
    public int Id { get; set; }
    public int ServerId { get; set; }
    /// <summary>Lower case: an address (<c>a@b.example</c>) or a domain (<c>b.example</c>).</summary>
    public string Rule { get; set; } = "";
    public long CreatedAt { get; set; }
}
