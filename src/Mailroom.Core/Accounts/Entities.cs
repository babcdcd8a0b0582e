namespace Mailroom.Core.Accounts;

/// <summary>A customer of the platform: holds servers, sender signatures and domains.</summary>
public sealed class Account
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string Email { get; set; }
    /// <summary>SHA-256 of the account API token; the token itself is shown once, at creation.</summary>
    public required string TokenHash { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A folder per customer of the account: its own tokens, streams, settings and mail.</summary>
public sealed class Server
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-case <see cref="Name"/>: names are unique per account ignoring case, through an index.</summary>
    public string NormalizedName { get; set; } = "";
    public string Color { get; set; } = "purple";
    public DeliveryType DeliveryType { get; set; } = DeliveryType.Live;
    public bool SmtpApiActivated { get; set; } = true;
    public bool RawEmailEnabled { get; set; }
    public bool TrackOpens { get; set; }
    public LinkTracking TrackLinks { get; set; } = LinkTracking.None;
    public string InboundHash { get; set; } = "";
    public string? InboundDomain { get; set; }
    public string InboundHookUrl { get; set; } = "";
    public string BounceHookUrl { get; set; } = "";
    public string OpenHookUrl { get; set; } = "";
    public string DeliveryHookUrl { get; set; } = "";
    public string ClickHookUrl { get; set; } = "";
    public bool PostFirstOpenOnly { get; set; }
    public int InboundSpamThreshold { get; set; }
    public bool IncludeBounceContentInHook { get; set; }
    public bool EnableSmtpApiErrorHooks { get; set; }
    public DateTime CreatedAt { get; set; }
    public List<ServerToken> Tokens { get; set; } = [];
}

/// <summary>One server API token: found by hash, shown again from its encrypted copy.</summary>
public sealed class ServerToken
{
    public int Id { get; set; }
    public int ServerId { get; set; }
    public required string TokenHash { get; set; }
    public required string ProtectedToken { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A message stream of a server (spec §4). Keyed by server and its string ID.</summary>
public sealed class MessageStream
{
    public long Id { get; set; }
    public int ServerId { get; set; }
    /// <summary>The stream's ID as the API shows it ("outbound", "broadcast", ...).</summary>
    public required string StreamId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public MessageStreamType Type { get; set; }
    public UnsubscribeHandlingType UnsubscribeHandling { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? UpdatedAt { get; set; }
    public DateTime? ArchivedAt { get; set; }
    public DateTime? ExpectedPurgeDate { get; set; }
    /// <summary>Mailroom extension: when delivery of this stream was held (by the API, the CLI or the breaker); null = flowing.</summary>
    public DateTime? PausedAt { get; set; }
    /// <summary>Why the stream was paused (the breaker records its figures here).</summary>
    public string? PauseReason { get; set; }
}

// Persisted enums carry explicit numbers; EnumNumbersTests freezes them.
public enum DeliveryType { Live = 0, Sandbox = 1 }

public enum LinkTracking { None = 0, HtmlAndText = 1, HtmlOnly = 2, TextOnly = 3 }

public enum MessageStreamType { Transactional = 0, Inbound = 1, Broadcasts = 2 }

public enum UnsubscribeHandlingType { None = 0, Postmark = 1, Custom = 2 }
