namespace Mailroom.Contracts;

public sealed record EmailName(string Email, string? Name);

/// <summary>Messages API, spec §8.2: one message of a search; <see cref="OutboundMessageDetails"/> adds its content and events.</summary>
public record OutboundMessageResponse
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
    public string MessageStream { get; init; } = DefaultStreams.Outbound;
    public bool Sandboxed { get; init; }
}

public sealed record OutboundMessageList(int TotalCount, IReadOnlyList<OutboundMessageResponse> Messages);

public sealed record MessageEventResponse(string Recipient, string Type, DateTimeOffset ReceivedAt, IReadOnlyDictionary<string, string> Details);

/// <summary>Messages API, spec §8.3: a message's fields as a search shows them, with its bodies, raw MIME and events.</summary>
public sealed record OutboundMessageDetails : OutboundMessageResponse
{
    public OutboundMessageDetails()
    {
    }

    /// <summary>The details of the message <paramref name="summary"/> describes.</summary>
    public OutboundMessageDetails(OutboundMessageResponse summary) : base(summary)
    {
    }

    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
    public string Body { get; init; } = "";
    public IReadOnlyList<MessageEventResponse> MessageEvents { get; init; } = [];
    /// <summary>Mailroom's extension: the template and version the message was rendered from (null when sent without one).</summary>
    public int? TemplateId { get; init; }
    public int? TemplateVersion { get; init; }
}

public sealed record MessageDump(string Body);
