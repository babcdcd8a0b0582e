using System.Text.Json.Serialization;

namespace Mailroom.Contracts;

/// <summary>An address of the inbound payload (spec §10.6): <c>MailboxHash</c> is what follows <c>+</c> in its local part.</summary>
public sealed record InboundFullAddress(string Email, string Name, string MailboxHash);

/// <summary>A header of the inbound payload.</summary>
public sealed record InboundHeader(string Name, string Value);

/// <summary>An attachment of the inbound payload: <c>Content</c> is base64; <c>ContentLength</c> the decoded size.</summary>
public sealed record InboundAttachment(string Name, string Content, string ContentType, long ContentLength, string ContentID);

/// <summary>
/// What Mailroom posts to a server's <c>InboundHookUrl</c> (spec §10.6), field for field Postmark's inbound JSON.
/// <c>RawEmail</c> is present only with the server's <c>RawEmailEnabled</c>.
/// </summary>
public sealed record InboundPayload
{
    public string FromName { get; init; } = "";
    public string MessageStream { get; init; } = DefaultStreams.Inbound;
    public string From { get; init; } = "";
    public InboundFullAddress FromFull { get; init; } = new("", "", "");
    public string To { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> ToFull { get; init; } = [];
    public string Cc { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> CcFull { get; init; } = [];
    public string Bcc { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> BccFull { get; init; } = [];
    public string OriginalRecipient { get; init; } = "";
    public string ReplyTo { get; init; } = "";
    public string Subject { get; init; } = "";
    public Guid MessageID { get; init; }
    public string Date { get; init; } = "";
    public string MailboxHash { get; init; } = "";
    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
    public string StrippedTextReply { get; init; } = "";
    public string Tag { get; init; } = "";
    public IReadOnlyList<InboundHeader> Headers { get; init; } = [];
    public IReadOnlyList<InboundAttachment> Attachments { get; init; } = [];
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RawEmail { get; init; }
}

/// <summary>An attachment as the Messages API lists it (no content).</summary>
public sealed record InboundAttachmentInfo(string Name, string ContentType, string ContentID, long ContentLength);

/// <summary>Messages API, spec §8.2: one inbound message of a search.</summary>
public record InboundMessageResponse
{
    public string From { get; init; } = "";
    public string FromName { get; init; } = "";
    public InboundFullAddress FromFull { get; init; } = new("", "", "");
    public string To { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> ToFull { get; init; } = [];
    public string Cc { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> CcFull { get; init; } = [];
    public string Bcc { get; init; } = "";
    public IReadOnlyList<InboundFullAddress> BccFull { get; init; } = [];
    public string ReplyTo { get; init; } = "";
    public string OriginalRecipient { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Date { get; init; } = "";
    public string MailboxHash { get; init; } = "";
    public string Tag { get; init; } = "";
    public Guid MessageID { get; init; }
    public string Status { get; init; } = "Queued";
    public IReadOnlyList<InboundAttachmentInfo> Attachments { get; init; } = [];
    public string MessageStream { get; init; } = DefaultStreams.Inbound;
}

public sealed record InboundMessageList(int TotalCount, IReadOnlyList<InboundMessageResponse> InboundMessages);

/// <summary><c>GET /messages/inbound/{id}/details</c>: the summary plus bodies, headers, the block reason and events.</summary>
public sealed record InboundMessageDetails : InboundMessageResponse
{
    public InboundMessageDetails()
    {
    }

    public InboundMessageDetails(InboundMessageResponse summary) : base(summary)
    {
    }

    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
    public string StrippedTextReply { get; init; } = "";
    public IReadOnlyList<InboundHeader> Headers { get; init; } = [];
    public string BlockedReason { get; init; } = "";
    public IReadOnlyList<MessageEventResponse> MessageEvents { get; init; } = [];
}

/// <summary>Inbound rule triggers (spec §12.1).</summary>
public sealed record InboundRuleResponse(int ID, string Rule);

public sealed record InboundRuleList(int TotalCount, IReadOnlyList<InboundRuleResponse> InboundRules);

public sealed record InboundRuleRequest
{
    public string? Rule { get; init; }
}
