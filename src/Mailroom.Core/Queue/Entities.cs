namespace Mailroom.Core.Queue;

/// <summary>
/// One accepted outbound message: what the Messages API lists, and the signed MIME that delivery sends.
/// Written once at acceptance (with its <see cref="RecipientDelivery"/> rows, in the same commit); content is purged
/// after the retention period.
/// </summary>
public sealed class OutboundMessage
{
    /// <summary>The MessageID the API returned (a GUID; <see cref="NewId"/> for new messages).</summary>
    public Guid Id { get; set; }

    /// <summary>
    /// A new message id: a time-ordered UUID (version 7, RFC 9562 §5.7: 48 bits of Unix milliseconds, then random bits).
    /// The id is the primary key of <c>outbound_messages</c> and leads the indexes of <c>deliveries</c> and
    /// <c>message_events</c>: a random (version 4) id put each accepted row's key on a random leaf page of those B-trees,
    /// so a 500-message commit dirtied ~500 index pages (a WAL page each on SQLite, a full-page image after a checkpoint on
    /// PostgreSQL), more as the store grows; time-ordered ids append to the last pages. Still a UUID, as Postmark's
    /// MessageID is; its first 48 bits show when it was accepted (the API shows ReceivedAt anyway).
    /// </summary>
    public static Guid NewId(DateTimeOffset acceptedAt) => Guid.CreateVersion7(acceptedAt);
    /// <summary>The sending account and server; null for the platform's own mail (sender confirmations).</summary>
    public int? AccountId { get; set; }
    public int? ServerId { get; set; }
    public string Stream { get; set; } = Mailroom.Contracts.DefaultStreams.Outbound;
    public string From { get; set; } = "";
    public string Subject { get; set; } = "";
    public string Tag { get; set; } = "";
    /// <summary>JSON arrays of {Email, Name}.</summary>
    public string ToJson { get; set; } = "[]";
    public string CcJson { get; set; } = "[]";
    public string BccJson { get; set; } = "[]";
    /// <summary>JSON object of metadata key → value.</summary>
    public string MetadataJson { get; set; } = "{}";
    /// <summary>JSON array of attachment file names.</summary>
    public string AttachmentNamesJson { get; set; } = "[]";
    public bool TrackOpens { get; set; }
    public string TrackLinks { get; set; } = "None";
    public bool Sandboxed { get; set; }
    /// <summary>Domain of the envelope sender: each recipient's MAIL FROM is the VERP address
    /// <c>pm_bounces+&lt;id&gt;-&lt;index&gt;-&lt;mac&gt;@ReturnPathDomain</c>, so a bounce names its message and recipient.</summary>
    public string ReturnPathDomain { get; set; } = "";
    /// <summary>W3C <c>traceparent</c> of the message's accept span, when tracing is on (null otherwise): Preparation and
    /// Delivery parent their spans of this message to it, so one trace shows its path (accept → prepare → deliver).</summary>
    public string? TraceParent { get; set; }
    /// <summary>The message: as composed or submitted until Preparation, then as sent (DKIM-signed).
    /// Null once purged after the retention period.</summary>
    public byte[]? Mime { get; set; }
    /// <summary>JSON array of envelope recipients (To, Cc and Bcc).</summary>
    public string RecipientsJson { get; set; } = "[]";
    public MessageStage Stage { get; set; }
    /// <summary>Why Preparation failed, when it did.</summary>
    public string StageDetail { get; set; } = "";
    public MessageStatus Status { get; set; }
    public long ReceivedAt { get; set; }
}

/// <summary>One recipient's delivery of a message: the queue row the delivery workers claim.</summary>
public sealed class RecipientDelivery : Mailroom.Core.Storage.LeasedRow
{
    public long Id { get; set; }
    public Guid MessageId { get; set; }
    public string Recipient { get; set; } = "";
    /// <summary>Position of the recipient in the message's envelope list: encoded in the VERP return path.</summary>
    public int RecipientIndex { get; set; }
    /// <summary>Lower-case recipient domain: deliveries are grouped by it (MX lookup, connection reuse, limits).</summary>
    public string Domain { get; set; } = "";
    public DeliveryState State { get; set; }
}

/// <summary>What happened to a message for one recipient (Messages API MessageEvents; later webhooks).</summary>
public sealed class MessageEvent
{
    public long Id { get; set; }
    public Guid MessageId { get; set; }
    public int? ServerId { get; set; }
    public string Recipient { get; set; } = "";
    public MessageEventType Type { get; set; }
    public long At { get; set; }
    /// <summary>JSON object string → string (Details of the API).</summary>
    public string DetailsJson { get; set; } = "{}";
}

// Persisted enums carry explicit numbers; EnumNumbersTests freezes them.
/// <summary>As the Messages API shows it; Failed: Preparation could not sign or queue it (the reason is in its Bounced events).</summary>
public enum MessageStatus { Queued = 0, Sent = 1, Processed = 2, Failed = 3 }

/// <summary>Where a message is on its path: accepted (durable, not yet signed), prepared (signed, deliveries
/// queued), failed in preparation.</summary>
public enum MessageStage { Accepted = 0, Prepared = 1, Failed = 2 }

public enum DeliveryState { Pending = 0, Delivered = 1, Failed = 2, Held = 3 }

public enum MessageEventType { Queued = 0, Delivered = 1, Transient = 2, Bounced = 3, Opened = 4, LinkClicked = 5, SubscriptionChanged = 6 }
