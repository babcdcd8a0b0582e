using System.Text;
using Mailroom.Mail.Addresses;
using MimeKit;

namespace Mailroom.Mail.Composition;

/// <summary>
/// Builds the MIME message (RFC 5322, RFC 2045–2047) for an <see cref="OutboundMessageSpec"/>:
/// <list type="bullet">
/// <item>text only → text/plain; HTML only → text/html; both → multipart/alternative (RFC 2046 §5.1.4), text first;</item>
/// <item>attachments with a Content-ID next to an HTML body → multipart/related around the HTML (RFC 2387), for <c>cid:</c> URLs (RFC 2392);</item>
/// <item>other attachments → multipart/mixed (RFC 2046 §5.1.3) around all that;</item>
/// <item>no body at all → an empty text/plain part.</item>
/// </list>
/// Text is UTF-8 with CRLF line breaks (RFC 2046 §4.1.1); the message is prepared for a 7-bit transport, so
/// MimeKit picks quoted-printable or base64 (RFC 2045 §6) and no line exceeds 78 characters in bodies.
/// Non-ASCII subjects, display names and header values become RFC 2047 encoded-words; non-ASCII file names
/// RFC 2231 parameters. Bcc never appears in a header. Everything a caller supplies that would reach a
/// header is checked: a CR, LF or other control character, a malformed or reserved header name, an invalid
/// address or content type → <see cref="CompositionException"/> naming the field. Thread-safe.
/// </summary>
public sealed class MessageComposer
{
    /// <summary>RFC 5322 §2.1.1: a line is at most 998 characters plus CRLF.</summary>
    const int MaxLineLength = HeaderRules.MaxLineLength;

    /// <summary>Fields that may occur at most once (RFC 5322 §3.6 table; RFC 2369/8058 list headers; Feedback-ID).</summary>
    static readonly HashSet<string> SingleFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "Message-ID", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    };

    readonly MessageComposerOptions options;

    public MessageComposer(MessageComposerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!EmailAddress.IsValidDomain(options.MessageIdDomain))
            throw new ArgumentException($"'{options.MessageIdDomain}' is not a valid Message-ID domain.", nameof(options));
        this.options = options;
    }

    /// <summary>
    /// True if callers may not set <paramref name="name"/> as a custom header: the Email API column of
    /// <see cref="HeaderRules.Table"/> (From, To, Cc, Bcc, Reply-To, Subject: use the fields; Date, Message-ID unless
    /// <paramref name="allowCustomMessageId"/>, Sender, Return-Path, Received, DKIM-Signature, ARC-*,
    /// Authentication-Results, Received-SPF, Delivered-To, MIME-Version, Content-*, Resent-*, X-PM-*).
    /// </summary>
    public static bool IsReservedHeader(string name, bool allowCustomMessageId = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        return HeaderRules.ApiUse(name, allowCustomMessageId) != HeaderUse.Keep;
    }

    /// <summary>The message for <paramref name="spec"/>, ready to sign and send. Throws <see cref="CompositionException"/>.</summary>
    /// <param name="spec">What to compose.</param>
    /// <param name="prepareForTransport">Encode for a 7-bit transport now (quoted-printable or base64, short lines).
    /// A caller that stores the message and prepares it later, before signing, passes false and skips encoding
    /// twice (the sending pipeline's ingress: Preparation encodes once, just before DKIM).</param>
    public MimeMessage Compose(OutboundMessageSpec spec, bool prepareForTransport = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var message = new MimeMessage();
        // MimeMessage starts with placeholder From, Date, Subject and a Message-Id naming this host: drop them.
        message.Headers.Clear();

        if (spec.From is null)
            throw new CompositionException("From", "A From address is required.");
        message.From.Add(Mailbox(spec.From, "From"));
        AddMailboxes(message.ReplyTo, spec.ReplyTo, "ReplyTo");
        AddMailboxes(message.To, spec.To, "To");
        AddMailboxes(message.Cc, spec.Cc, "Cc");
        // MimeKit folds display names between words, but a quoted name (one with a special such as ':') is one word
        // that cannot be folded: the line must still fit (RFC 5322 §2.1.1).
        foreach (var header in message.Headers)
            Checked(header, header.Id == HeaderId.ReplyTo ? "ReplyTo" : header.Field);
        foreach (var bcc in spec.Bcc ?? [])
            Mailbox(bcc, "Bcc"); // validated for the envelope, never written (RFC 5322 §3.6.3)
        if (spec.RecipientCount == 0)
            throw new CompositionException("To", "At least one recipient (To, Cc or Bcc) is required.");

        if (spec.Subject is not null)
        {
            CheckHeaderValue("Subject", "Subject", spec.Subject);
            message.Headers.Add(Checked(new Header(Encoding.UTF8, HeaderId.Subject, spec.Subject), "Subject"));
        }
        message.Date = spec.Date;
        // Spelled "Message-ID" as RFC 5322 §3.6.4 does (MimeKit's own setter writes "Message-Id").
        message.Headers.Add(new Header("Message-ID", $"<{spec.MessageId:D}@{options.MessageIdDomain}>"));

        AddCustomHeaders(message, spec.Headers ?? []);
        message.Body = Body(spec);
        if (prepareForTransport)
            message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    static void AddMailboxes(InternetAddressList list, IReadOnlyList<NamedAddress>? addresses, string field)
    {
        foreach (var address in addresses ?? [])
            list.Add(Mailbox(address, field));
    }

    static MailboxAddress Mailbox(NamedAddress? address, string field)
    {
        if (address is null || !EmailAddress.IsValid(address.Address))
            throw new CompositionException(field, $"Invalid '{field}' address: '{address?.Address}'.");
        var name = address.Name;
        if (string.IsNullOrWhiteSpace(name))
            return new MailboxAddress(Encoding.UTF8, null, address.Address);
        if (HeaderText.FindControl(name) is { } bad)
            throw new CompositionException(field, $"The display name for '{address.Address}' in '{field}' contains {HeaderText.Describe(bad)}; line breaks and control characters are not allowed.");
        return new MailboxAddress(Encoding.UTF8, name.Trim(), address.Address);
    }

    void AddCustomHeaders(MimeMessage message, IReadOnlyList<MessageHeader> headers)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            var nameField = $"Headers[{i}].Name";
            var valueField = $"Headers[{i}].Value";
            if (header is null || string.IsNullOrEmpty(header.Name))
                throw new CompositionException(nameField, "A header name is required.");
            // Check before trimming: a trailing CRLF is an injection attempt, not whitespace to tidy away.
            if (HeaderText.FindControl(header.Name) is { } bad)
                throw new CompositionException(nameField, HeaderRules.ControlInName(bad));
            var name = header.Name.Trim();
            if (!HeaderText.IsFieldName(name))
                throw new CompositionException(nameField, HeaderRules.InvalidName(name));
            if (IsReservedHeader(name, options.AllowCustomMessageId))
                throw new CompositionException(nameField, HeaderRules.Refusal(name));
            if (SingleFields.Contains(name) && !seen.Add(name))
                throw new CompositionException(nameField, $"The '{name}' header may occur only once (RFC 5322 §3.6).");

            CheckHeaderValue(valueField, name, header.Value ?? "");
            var value = (header.Value ?? "").Trim();

            if (name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase))
            {
                if (!IsMessageId(value))
                    throw new CompositionException(valueField, $"'{value}' is not a Message-ID of the form <left@right> (RFC 5322 §3.6.4).");
                message.Headers.Replace(new Header("Message-ID", value));
                continue;
            }
            var field = new Header(Encoding.UTF8, name, value);
            // MimeKit writes RFC 2047 encoded-words only in unstructured fields; structured ones such as
            // List-Unsubscribe (URIs, RFC 2369) or References keep raw UTF-8, which a 7-bit path cannot carry.
            if (!System.Text.Ascii.IsValid(field.RawValue))
                throw new CompositionException(valueField, $"The '{name}' header is structured and its value must be ASCII (percent-encode URIs, RFC 3986 §2.1).");
            message.Headers.Add(Checked(field, valueField));
        }
    }

    /// <summary>The header as MimeKit folded it, if every line fits RFC 5322 §2.1.1's 998 characters.</summary>
    static Header Checked(Header header, string field)
    {
        var raw = header.RawValue;
        var lineStart = 0;
        var prefix = header.Field.Length + 1; // "Name:" precedes the first line
        for (var i = 0; i <= raw.Length; i++)
        {
            if (i < raw.Length && raw[i] != (byte)'\n')
                continue;
            var length = i - lineStart - (i > lineStart && raw[i - 1] == (byte)'\r' ? 1 : 0);
            if (prefix + length > MaxLineLength)
                throw new CompositionException(field, HeaderRules.TooLong(header.Field));
            prefix = 0;
            lineStart = i + 1;
        }
        return header;
    }

    /// <summary>No injection (CR/LF/control characters) and no word too long to fold onto one line (RFC 5322 §2.1.1, §2.2.3).</summary>
    static void CheckHeaderValue(string field, string name, string value)
    {
        if (HeaderText.FindControl(value) is { } bad)
            throw new CompositionException(field, HeaderRules.ControlInValue(name, bad));
        // Non-ASCII text becomes RFC 2047 encoded-words, which MimeKit splits; ASCII words are only folded between.
        if (HeaderText.IsAscii(value) && name.Length + 2 + HeaderText.LongestWord(value) > MaxLineLength)
            throw new CompositionException(field, HeaderRules.TooLong(name));
    }

    static bool IsMessageId(string value)
    {
        if (value.Length < 5 || value[0] != '<' || value[^1] != '>')
            return false;
        var id = value.AsSpan(1, value.Length - 2);
        var at = id.IndexOf('@');
        return at > 0 && at < id.Length - 1 && id[(at + 1)..].IndexOf('@') < 0 && IsIdText(id);
    }

    /// <summary>atext, '.' and '@' (RFC 5322 §3.2.3, §3.6.4): what a msg-id or Content-ID may contain unquoted.</summary>
    static bool IsIdText(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-/=?^_`{|}~.@".Contains(c)))
                return false;
        return true;
    }

    static MimeEntity Body(OutboundMessageSpec spec)
    {
        var attachments = spec.Attachments ?? [];
        var hasHtml = spec.HtmlBody is not null;
        var inline = new List<MimeEntity>();
        var regular = new List<MimeEntity>();
        for (var i = 0; i < attachments.Count; i++)
        {
            var isInline = hasHtml && !string.IsNullOrWhiteSpace(attachments[i]?.ContentId);
            (isInline ? inline : regular).Add(Attachment(attachments[i], i, isInline));
        }

        MimeEntity? html = null;
        if (hasHtml)
        {
            html = Text("html", spec.HtmlBody!);
            if (inline.Count > 0)
            {
                // RFC 2387 §3: the root (first part) is the HTML; "type" names its type.
                var related = new MultipartRelated { Root = html };
                related.ContentType.Parameters["type"] = "text/html";
                foreach (var part in inline)
                    related.Add(part);
                html = related;
            }
        }

        MimeEntity body;
        if (spec.TextBody is not null && html is not null)
            body = new MultipartAlternative { Text("plain", spec.TextBody), html };
        else
            body = html ?? Text("plain", spec.TextBody ?? "");

        if (regular.Count == 0)
            return body;
        var mixed = new Multipart("mixed") { body };
        foreach (var part in regular)
            mixed.Add(part);
        return mixed;
    }

    static TextPart Text(string subtype, string text)
    {
        var part = new TextPart(subtype);
        part.SetText(Encoding.UTF8, NormalizeLineBreaks(text));
        return part;
    }

    /// <summary>CR, LF and CRLF all become CRLF, the canonical line break of text/* (RFC 2046 §4.1.1).</summary>
    static string NormalizeLineBreaks(string text)
    {
        var span = text.AsSpan();
        var next = span.IndexOfAny('\r', '\n');
        if (next < 0)
            return text;
        var builder = new StringBuilder(text.Length + text.Length / 32 + 16);
        var start = 0;
        while (next >= 0)
        {
            var at = start + next;
            builder.Append(span[start..at]).Append("\r\n");
            start = at + (span[at] == '\r' && at + 1 < span.Length && span[at + 1] == '\n' ? 2 : 1);
            next = span[start..].IndexOfAny('\r', '\n');
        }
        builder.Append(span[start..]);
        return builder.ToString();
    }

    static MimeEntity Attachment(MessageAttachment? attachment, int index, bool inline)
    {
        var field = $"Attachments[{index}]";
        if (attachment is null)
            throw new CompositionException(field, "The attachment is missing.");
        if (string.IsNullOrWhiteSpace(attachment.Name))
            throw new CompositionException(field + ".Name", "An attachment name is required.");
        if (HeaderText.FindControl(attachment.Name) is { } bad)
            throw new CompositionException(field + ".Name", $"The attachment name contains {HeaderText.Describe(bad)}; line breaks and control characters are not allowed.");
        if (attachment.Content is null)
            throw new CompositionException(field + ".Content", "The attachment content is required.");

        var contentType = ParseContentType(attachment.ContentType, field + ".ContentType");
        var disposition = new ContentDisposition(inline ? ContentDisposition.Inline : ContentDisposition.Attachment);

        MimeEntity entity;
        if (contentType.IsMimeType("message", "rfc822"))
        {
            // RFC 2046 §5.2.1: message/rfc822 may not be base64 encoded, so carry the message itself.
            MimeMessage attached;
            try
            {
                attached = MimeMessage.Load(new MemoryStream(attachment.Content, writable: false));
            }
            catch (FormatException)
            {
                throw new CompositionException(field + ".Content", "The message/rfc822 attachment is not a readable message.");
            }
            entity = new MessagePart("rfc822") { Message = attached, ContentDisposition = disposition };
            entity.ContentDisposition.FileName = attachment.Name.Trim();
        }
        else
        {
            entity = new MimePart(contentType)
            {
                Content = new MimeContent(new MemoryStream(attachment.Content, writable: false)),
                ContentTransferEncoding = ContentEncoding.Base64,
                ContentDisposition = disposition,
                FileName = attachment.Name.Trim(),
            };
        }

        if (!string.IsNullOrWhiteSpace(attachment.ContentId))
            entity.ContentId = ParseContentId(attachment.ContentId, field + ".ContentID");
        return entity;
    }

    static ContentType ParseContentType(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
            return new ContentType("application", "octet-stream");
        if (HeaderText.FindControl(value) is { } bad)
            throw new CompositionException(field, $"The content type contains {HeaderText.Describe(bad)}; header injection is refused.");
        if (!ContentType.TryParse(ParserOptions.Default, value.Trim(), out var type) || type.MediaType.Length == 0 || type.MediaSubtype.Length == 0)
            throw new CompositionException(field, $"'{value}' is not a valid content type (RFC 2045 §5.1).");
        if (type.IsMimeType("multipart", "*") || type.IsMimeType("message", "partial") || type.IsMimeType("message", "external-body"))
            throw new CompositionException(field, $"Attachments cannot have the content type '{type.MimeType}'.");
        return type;
    }

    /// <summary>Postmark's form <c>cid:logo.png</c>, or <c>logo.png</c>, or <c>&lt;logo.png&gt;</c> → <c>logo.png</c>.</summary>
    static string ParseContentId(string value, string field)
    {
        if (HeaderText.FindControl(value) is { } bad)
            throw new CompositionException(field, $"The Content-ID contains {HeaderText.Describe(bad)}; header injection is refused.");
        var id = value.Trim();
        if (id.StartsWith("cid:", StringComparison.OrdinalIgnoreCase))
            id = id[4..];
        if (id.Length >= 2 && id[0] == '<' && id[^1] == '>')
            id = id[1..^1];
        if (id.Length is 0 or > 250 || !IsIdText(id))
            throw new CompositionException(field, $"'{value}' is not a usable Content-ID: use letters, digits and . @ - _ (RFC 2392).");
        return id;
    }
}
