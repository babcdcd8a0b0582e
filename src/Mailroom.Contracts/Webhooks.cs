using System.Text.Json.Serialization;

namespace Mailroom.Contracts;

/// <summary>Webhook object, spec §10.2: all six triggers with every boolean.</summary>
public sealed record WebhookResponse
{
    public int ID { get; init; }
    public string Url { get; init; } = "";
    public string MessageStream { get; init; } = DefaultStreams.Outbound;
    public WebhookHttpAuth? HttpAuth { get; init; }
    public IReadOnlyList<WebhookHeader> HttpHeaders { get; init; } = [];
    public WebhookTriggers Triggers { get; init; } = new();
    /// <summary>Mailroom extension: the HMAC key of <c>X-Mailroom-Signature</c>; only in the answer to create and to rotate.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SigningSecret { get; init; }
}

public sealed record WebhookHttpAuth(string? Username, string? Password);

public sealed record WebhookHeader(string? Name, string? Value);

public sealed record WebhookTriggers
{
    public OpenTrigger Open { get; init; } = new();
    public EnabledTrigger Click { get; init; } = new();
    public EnabledTrigger Delivery { get; init; } = new();
    public ContentTrigger Bounce { get; init; } = new();
    public ContentTrigger SpamComplaint { get; init; } = new();
    public EnabledTrigger SubscriptionChange { get; init; } = new();
}

public sealed record OpenTrigger(bool Enabled = false, bool PostFirstOpenOnly = false);
public sealed record EnabledTrigger(bool Enabled = false);
public sealed record ContentTrigger(bool Enabled = false, bool IncludeContent = false);

public sealed record WebhookList(IReadOnlyList<WebhookResponse> Webhooks);

/// <summary>Create and edit body: every member optional (edit changes only what is given, triggers too).</summary>
public sealed record WebhookRequest
{
    public int? ID { get; init; }
    public string? Url { get; init; }
    public string? MessageStream { get; init; }
    public WebhookHttpAuth? HttpAuth { get; init; }
    public IReadOnlyList<WebhookHeader?>? HttpHeaders { get; init; }
    public WebhookTriggersRequest? Triggers { get; init; }
}

public sealed record WebhookTriggersRequest
{
    public TriggerRequest? Open { get; init; }
    public TriggerRequest? Click { get; init; }
    public TriggerRequest? Delivery { get; init; }
    public TriggerRequest? Bounce { get; init; }
    public TriggerRequest? SpamComplaint { get; init; }
    public TriggerRequest? SubscriptionChange { get; init; }
}

public sealed record TriggerRequest(bool? Enabled = null, bool? PostFirstOpenOnly = null, bool? IncludeContent = null);

/// <summary>Mailroom extension: one POST of <c>GET /webhooks/{id}/attempts</c>.</summary>
public sealed record WebhookAttemptResponse(long ID, long EventID, string RecordType, DateTimeOffset At, int StatusCode, int DurationMs,
    string Error, string Outcome);

public sealed record WebhookAttemptList(IReadOnlyList<WebhookAttemptResponse> Attempts);

/// <summary>Mailroom extension: <c>GET /events</c>, the payloads in commit order; pass <c>NextCursor</c> (opaque) as <c>after</c>.</summary>
public sealed record EventPage(string NextCursor, IReadOnlyList<System.Text.Json.JsonElement> Events);
