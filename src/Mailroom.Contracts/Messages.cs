namespace Mailroom.Contracts;

public sealed record EmailName(string Email, string? Name);

/// <summary>Messages API, spec §8.2.</summary>
public sealed record OutboundMessageResponse
{
    public string Tag { get; init; } = "";
    public Guid MessageID { get; init; }
    public IReadOnlyList<EmailName> To { get; init; } = [];
    public IReadOnlyList<EmailName> Cc { get; init; } = [];
    public IReadOnlyList<EmailName> Bcc { get; init; } = [];
    public IReadOnlyList<string> Recipients { get; init; } = [];
    public DateTimeOffset ReceivedAt { get; init; }
    public string From { get; init; } = "";
    public string Subject { get; init; } = "";
    public IReadOnlyList<string> Attachments { get; init; } = [];
    public string Status { get; init; } = "Queued";
    public bool TrackOpens { get; init; }
    public string TrackLinks { get; init; } = "None";
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public string MessageStream { get; init; } = "outbound";
    public bool Sandboxed { get; init; }
}

public sealed record OutboundMessageList(int TotalCount, IReadOnlyList<OutboundMessageResponse> Messages);

public sealed record MessageEventResponse(string Recipient, string Type, DateTimeOffset ReceivedAt, IReadOnlyDictionary<string, string> Details);

public sealed record OutboundMessageDetails
{
    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
    public string Body { get; init; } = "";
    public string Tag { get; init; } = "";
    public Guid MessageID { get; init; }
    public IReadOnlyList<EmailName> To { get; init; } = [];
    public IReadOnlyList<EmailName> Cc { get; init; } = [];
    public IReadOnlyList<EmailName> Bcc { get; init; } = [];
    public IReadOnlyList<string> Recipients { get; init; } = [];
    public DateTimeOffset ReceivedAt { get; init; }
    public string From { get; init; } = "";
    public string Subject { get; init; } = "";
    public IReadOnlyList<string> Attachments { get; init; } = [];
    public string Status { get; init; } = "Queued";
    public bool TrackOpens { get; init; }
    public string TrackLinks { get; init; } = "None";
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public string MessageStream { get; init; } = "outbound";
    public bool Sandboxed { get; init; }
    public IReadOnlyList<MessageEventResponse> MessageEvents { get; init; } = [];
}

public sealed record MessageDump(string Body);
