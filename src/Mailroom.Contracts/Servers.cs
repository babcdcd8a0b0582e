namespace Mailroom.Contracts;

/// <summary>Server object, spec §3.2. Every field always present: .NET's model has non-nullable bools and ints.</summary>
public sealed record ServerResponse
{
    public int ID { get; init; }
    public string Name { get; init; } = "";
    public IReadOnlyList<string> ApiTokens { get; init; } = [];
    public string ServerLink { get; init; } = "";
    public string Color { get; init; } = "";
    public bool SmtpApiActivated { get; init; }
    public bool RawEmailEnabled { get; init; }
    public string DeliveryType { get; init; } = "Live";
    public string InboundAddress { get; init; } = "";
    public string InboundHookUrl { get; init; } = "";
    public string BounceHookUrl { get; init; } = "";
    public string OpenHookUrl { get; init; } = "";
    public string DeliveryHookUrl { get; init; } = "";
    public string ClickHookUrl { get; init; } = "";
    public bool PostFirstOpenOnly { get; init; }
    public string InboundDomain { get; init; } = "";
    public string InboundHash { get; init; } = "";
    public int InboundSpamThreshold { get; init; }
    public bool TrackOpens { get; init; }
    public string TrackLinks { get; init; } = "None";
    public bool IncludeBounceContentInHook { get; init; }
    public bool EnableSmtpApiErrorHooks { get; init; }
}

public sealed record ServerList(int TotalCount, IReadOnlyList<ServerResponse> Servers);

/// <summary>Create and edit body. Every field optional here: <c>null</c> means "not given" (spec §1.5).</summary>
public sealed record ServerRequest
{
    public string? Name { get; init; }
    public string? Color { get; init; }
    public bool? SmtpApiActivated { get; init; }
    public bool? RawEmailEnabled { get; init; }
    public string? DeliveryType { get; init; }
    public string? InboundHookUrl { get; init; }
    public string? BounceHookUrl { get; init; }
    public string? OpenHookUrl { get; init; }
    public string? DeliveryHookUrl { get; init; }
    public string? ClickHookUrl { get; init; }
    public bool? PostFirstOpenOnly { get; init; }
    public string? InboundDomain { get; init; }
    public int? InboundSpamThreshold { get; init; }
    public bool? TrackOpens { get; init; }
    public string? TrackLinks { get; init; }
    public bool? IncludeBounceContentInHook { get; init; }
    public bool? EnableSmtpApiErrorHooks { get; init; }
}
