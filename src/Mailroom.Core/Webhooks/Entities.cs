using Mailroom.Contracts;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// One webhook of one server's stream (spec §10.2): where events are posted and which of them. The HTTP auth
/// password and the signing secrets are kept encrypted with Data Protection (<see cref="Secrets"/>), as DKIM keys are.
/// </summary>
public sealed class Webhook
{
    public int Id { get; set; }
    public int ServerId { get; set; }
    public string Stream { get; set; } = DefaultStreams.Outbound;
    public string Url { get; set; } = "";
    public string? HttpAuthUsername { get; set; }
    /// <summary>Encrypted (Secrets.ProtectKey); null when no password.</summary>
    public string? HttpAuthPasswordProtected { get; set; }
    /// <summary>JSON array of {Name, Value}.</summary>
    public string HttpHeadersJson { get; set; } = "[]";
    public bool OpenEnabled { get; set; }
    public bool OpenPostFirstOpenOnly { get; set; }
    public bool ClickEnabled { get; set; }
    public bool DeliveryEnabled { get; set; }
    public bool BounceEnabled { get; set; }
    public bool BounceIncludeContent { get; set; }
    public bool SpamComplaintEnabled { get; set; }
    public bool SpamComplaintIncludeContent { get; set; }
    public bool SubscriptionChangeEnabled { get; set; }
    /// <summary>Encrypted HMAC key of X-Mailroom-Signature.</summary>
    public string SecretProtected { get; set; } = "";
    /// <summary>The secret before the last rotation: still signs (second v1=) until <see cref="PreviousSecretUntil"/>.</summary>
    public string? PreviousSecretProtected { get; set; }
    public long PreviousSecretUntil { get; set; }
    public long CreatedAt { get; set; }
}

/// <summary>
/// One event as customers see it (spec §10.5): the rendered payload, written in the transaction of the state change
/// that produced it. The replay API (<c>GET /events</c>) reads these in Id order.
/// </summary>
public sealed class WebhookEvent
{
    public long Id { get; set; }
    public int ServerId { get; set; }
    public string Stream { get; set; } = DefaultStreams.Outbound;
    /// <summary>Delivery, Bounce, SpamComplaint, SubscriptionChange.</summary>
    public string RecordType { get; set; } = "";
    /// <summary>The payload; a Bounce or SpamComplaint carries <c>"ID": 0</c> and its real ID in <see cref="BounceId"/>
    /// (the bounce row gets its ID in the same SaveChanges that writes this row).</summary>
    public string PayloadJson { get; set; } = "{}";
    public long? BounceId { get; set; }
    public Mailroom.Core.Events.Bounce? Bounce { get; set; }
    public long CreatedAt { get; set; }
}

/// <summary>One event's delivery to one endpoint: the outbox row the webhook dispatcher claims under a lease.</summary>
public sealed class WebhookDelivery : Mailroom.Core.Storage.LeasedRow
{
    public long Id { get; set; }
    public long EventId { get; set; }
    public WebhookEvent? Event { get; set; }
    public int ServerId { get; set; }
    /// <summary>The webhook; null for a server's legacy hook URL (BounceHookUrl, DeliveryHookUrl).</summary>
    public int? WebhookId { get; set; }
    /// <summary>Endpoint of a legacy hook URL (a webhook's own Url is read at send time).</summary>
    public string Url { get; set; } = "";
    /// <summary>Lower-case host of the endpoint when the row was written: the dispatcher limits POSTs in flight per host.</summary>
    public string Host { get; set; } = "";
    public bool IncludeContent { get; set; }
    public WebhookDeliveryState State { get; set; }
}

/// <summary>One POST to an endpoint and what came of it (Mailroom extension: <c>GET /webhooks/{id}/attempts</c>).</summary>
public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public long EventId { get; set; }
    public int ServerId { get; set; }
    public int? WebhookId { get; set; }
    public string RecordType { get; set; } = "";
    public long At { get; set; }
    /// <summary>HTTP status of the final response; 0 when none came (timeout, refused destination, connection error).</summary>
    public int StatusCode { get; set; }
    public int DurationMs { get; set; }
    public string Error { get; set; } = "";
    /// <summary>Done, Retry (scheduled again), Dropped (a 4xx, a refused destination) or Failed (retries used up).</summary>
    public string Outcome { get; set; } = "";
}

// Persisted enums carry explicit numbers.
public enum WebhookDeliveryState { Pending = 0, Delivered = 1, Dropped = 2, Failed = 3 }
