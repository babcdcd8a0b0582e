namespace Mailroom.Contracts;

/// <summary>A message for <c>POST /email</c> and each item of <c>POST /email/batch</c> (spec §2.2); the base of a
/// templated message (<see cref="TemplatedEmailRequest"/>), which has the same fields and a template for the content.</summary>
public record EmailRequest
{
    public string? From { get; init; }
    public string? To { get; init; }
    public string? Cc { get; init; }
    public string? Bcc { get; init; }
    public string? Subject { get; init; }
    public string? Tag { get; init; }
    public string? HtmlBody { get; init; }
    public string? TextBody { get; init; }
    public string? ReplyTo { get; init; }
    public IReadOnlyList<EmailHeader?>? Headers { get; init; }
    public bool? TrackOpens { get; init; }
    public string? TrackLinks { get; init; }
    public Dictionary<string, string?>? Metadata { get; init; }
    public IReadOnlyList<EmailAttachment?>? Attachments { get; init; }
    public string? MessageStream { get; init; }
}

public sealed record EmailHeader(string? Name, string? Value);

public sealed record EmailAttachment
{
    public string? Name { get; init; }
    public string? Content { get; init; }
    public string? ContentType { get; init; }
    public string? ContentID { get; init; }
}

/// <summary>The answer to one accepted message. A failed batch item carries only ErrorCode and Message.</summary>
public sealed record SendResult
{
    public string? To { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
    public Guid? MessageID { get; init; }
    public int ErrorCode { get; init; }
    public string Message { get; init; } = "OK";
}
