namespace Mailroom.Core;

/// <summary>Install-wide facts the API shows to customers.</summary>
public sealed record PlatformSettings
{
    /// <summary>Base URL of this install's web UI and links (ServerLink, confirmation links).</summary>
    public string PublicUrl { get; init; } = "http://127.0.0.1:5080";
    /// <summary>Host of the inbound addresses: <c>&lt;InboundHash&gt;@&lt;InboundHost&gt;</c>.</summary>
    public string InboundHost { get; init; } = "inbound.mailroom.localhost";
    /// <summary>How long an archived stream is kept before it is purged (Postmark: 45 days).</summary>
    public TimeSpan ArchivedStreamRetention { get; init; } = TimeSpan.FromDays(45);
    /// <summary>How long sent messages (content, events) are kept (Postmark: 45 days).</summary>
    public TimeSpan MessageRetention { get; init; } = TimeSpan.FromDays(45);
    /// <summary>Most streams one server may hold, defaults included.</summary>
    public int MaxStreamsPerServer { get; init; } = 30;
}
