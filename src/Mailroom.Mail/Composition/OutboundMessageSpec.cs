using Mailroom.Mail.Addresses;

namespace Mailroom.Mail.Composition;

/// <summary>
/// One Postmark-style send, already parsed from the API: who, what, and the ids and time to stamp.
/// <see cref="MessageComposer"/> turns it into a MIME message. Bcc recipients are envelope-only and never
/// appear in a header.
/// </summary>
public sealed record OutboundMessageSpec
{
    public required NamedAddress From { get; init; }
    public IReadOnlyList<NamedAddress> To { get; init; } = [];
    public IReadOnlyList<NamedAddress> Cc { get; init; } = [];

    /// <summary>Envelope recipients only (RFC 5322 §3.6.3 allows leaving Bcc out of the header entirely).</summary>
    public IReadOnlyList<NamedAddress> Bcc { get; init; } = [];

    public IReadOnlyList<NamedAddress> ReplyTo { get; init; } = [];
    public string? Subject { get; init; }
    public string? TextBody { get; init; }
    public string? HtmlBody { get; init; }

    /// <summary>Extra header fields, in order. See <see cref="MessageComposer.IsReservedHeader"/> for the ones refused.</summary>
    public IReadOnlyList<MessageHeader> Headers { get; init; } = [];

    public IReadOnlyList<MessageAttachment> Attachments { get; init; } = [];

    /// <summary>The message's id; the header is <c>Message-ID: &lt;id@MessageIdDomain&gt;</c> (id in lower-case "D" form).</summary>
    public required Guid MessageId { get; init; }

    /// <summary>The Date header (RFC 5322 §3.6.1), the time the API accepted the message.</summary>
    public required DateTimeOffset Date { get; init; }

    /// <summary>To + Cc + Bcc, as given (duplicates counted), for limits such as Postmark's 50 per message.</summary>
    public int RecipientCount => To.Count + Cc.Count + Bcc.Count;

    /// <summary>
    /// The SMTP RCPT TO addresses: To, then Cc, then Bcc, each address once (compared ignoring case).
    /// A recipient's position in this list is its VERP index (<see cref="VerpSigner.Encode"/>).
    /// </summary>
    public IReadOnlyList<string> EnvelopeRecipients()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var list = new List<string>(RecipientCount);
        foreach (var address in To.Concat(Cc).Concat(Bcc))
            if (seen.Add(address.Address))
                list.Add(address.Address);
        return list;
    }
}

/// <summary>A header field to add: name and unstructured value, without the colon or line break.</summary>
public sealed record MessageHeader(string Name, string Value);

/// <summary>
/// A file to attach. With a <see cref="ContentId"/> (<c>cid:logo.png</c> or <c>logo.png</c>) and an HTML body it
/// is an inline part that HTML refers to as <c>cid:logo.png</c> (RFC 2392); otherwise a regular attachment.
/// </summary>
public sealed record MessageAttachment(string Name, byte[] Content, string? ContentType = null, string? ContentId = null);
