using MimeKit;
using MimeKit.Tnef;
using Mailroom.Contracts;

namespace Mailroom.Mail.Inbound;

/// <summary>The SMTP envelope of one received message and what Mailroom adds to it.</summary>
/// <param name="MailFrom">The reverse path (RFC 5321 MAIL FROM), "" for the null sender.</param>
/// <param name="Recipient">The envelope recipient the message was accepted for (<c>OriginalRecipient</c>).</param>
/// <param name="ExtraHeaders">Headers Mailroom computed on arrival (Authentication-Results, Received-SPF, X-Spam-*),
/// put first in <c>Headers</c>, as a receiving MTA prepends its trace headers (RFC 5322 §3.6.7).</param>
public sealed record InboundEnvelope(string MailFrom, string Recipient, IReadOnlyList<InboundHeader>? ExtraHeaders = null);

/// <summary>
/// Turns one received message into Postmark's inbound JSON (spec §10.6). Pure: bytes in, payload out. MimeKit decodes
/// every charset it knows (RFC 2045/2046), RFC 2047 encoded words in names and subjects and RFC 2231 parameters in
/// file names; TNEF (<c>winmail.dat</c>, application/ms-tnef) is unpacked into the attachments it carries.
/// </summary>
public static class InboundParser
{
    /// <summary>Headers that have their own field in the payload and are not repeated in <c>Headers</c>.</summary>
    private static readonly HashSet<string> OwnFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date",
    };

    public static MimeMessage Load(byte[] raw)
    {
        using var stream = new MemoryStream(raw, writable: false);
        return MimeMessage.Load(stream);
    }

    public static InboundPayload Parse(byte[] raw, InboundEnvelope envelope, Guid messageId, string messageStream, bool includeRawEmail) =>
        Parse(Load(raw), raw, envelope, messageId, messageStream, includeRawEmail);

    public static InboundPayload Parse(MimeMessage message, byte[] raw, InboundEnvelope envelope, Guid messageId, string messageStream, bool includeRawEmail)
    {
        var from = message.From.Mailboxes.FirstOrDefault() ?? message.Sender
            ?? (MailboxAddress.TryParse(envelope.MailFrom, out var mf) ? mf : null);
        var to = Full(message.To);
        var cc = Full(message.Cc);
        var bcc = Full(message.Bcc);
        var bccHeader = message.Bcc.Count > 0 ? message.Bcc.ToString() : "";
        // The envelope recipient named in neither To nor Cc was a Bcc target (spec §10.6: Bcc only then).
        var recipient = envelope.Recipient;
        if (recipient.Length > 0 && bcc.Count == 0
            && !to.Concat(cc).Any(a => string.Equals(a.Email, recipient, StringComparison.OrdinalIgnoreCase)))
        {
            bcc = [new InboundFullAddress(recipient, "", MailboxHashOf(recipient))];
            bccHeader = recipient;
        }

        var (text, html, attachments) = Bodies(message);
        if (text.Length == 0 && html.Length > 0)
            text = HtmlText.FromHtml(html);

        var headers = new List<InboundHeader>();
        if (envelope.ExtraHeaders is not null)
            headers.AddRange(envelope.ExtraHeaders);
        foreach (var h in message.Headers)
            if (!OwnFields.Contains(h.Field))
                headers.Add(new InboundHeader(h.Field, Unfold(h.Value)));
        // MimeKit keeps the top-level Content-* headers with the body entity; they were headers of the message.
        if (message.Body is { } top)
            foreach (var h in top.Headers)
                headers.Add(new InboundHeader(h.Field, Unfold(h.Value)));

        return new InboundPayload
        {
            FromName = from?.Name ?? "",
            MessageStream = messageStream,
            From = from?.Address ?? "",
            FromFull = new InboundFullAddress(from?.Address ?? "", from?.Name ?? "", ""),
            To = message.To.Count > 0 ? message.To.ToString() : "",
            ToFull = to,
            Cc = message.Cc.Count > 0 ? message.Cc.ToString() : "",
            CcFull = cc,
            Bcc = bccHeader,
            BccFull = bcc,
            OriginalRecipient = recipient,
            ReplyTo = message.ReplyTo.Count > 0 ? string.Join(", ", message.ReplyTo.Mailboxes.Select(m => m.Address)) : "",
            Subject = message.Subject ?? "",
            MessageID = messageId,
            Date = message.Headers[HeaderId.Date] is { } date ? Unfold(date).Trim() : "",
            MailboxHash = MailboxHashOf(recipient),
            TextBody = text,
            HtmlBody = html,
            StrippedTextReply = ReplyStripper.Strip(text),
            Tag = message.Headers["X-PM-Tag"]?.Trim() ?? "",
            Headers = headers,
            Attachments = attachments,
            RawEmail = includeRawEmail ? System.Text.Encoding.UTF8.GetString(raw) : null,
        };
    }

    /// <summary>What follows the first <c>+</c> of the local part (RFC 5233 subaddress), "" when none.</summary>
    public static string MailboxHashOf(string address)
    {
        var at = address.LastIndexOf('@');
        var local = at < 0 ? address : address[..at];
        var plus = local.IndexOf('+');
        return plus < 0 ? "" : local[(plus + 1)..];
    }

    private static List<InboundFullAddress> Full(InternetAddressList list) =>
        list.Mailboxes.Select(m => new InboundFullAddress(m.Address, m.Name ?? "", MailboxHashOf(m.Address))).ToList();

    private static string Unfold(string value) => value.Replace("\r\n", "").Replace("\n", "").Trim();

    /// <summary>
    /// The first text/plain and text/html parts that are not attachments are the bodies (later inline text parts, as
    /// Apple Mail writes around an inline image, are appended); every other leaf is an attachment, inline images of a
    /// multipart/related included with their Content-ID. A TNEF part gives the files inside it (MS-OXTNEF).
    /// </summary>
    private static (string Text, string Html, List<InboundAttachment> Attachments) Bodies(MimeMessage message)
    {
        string? text = null, html = null;
        var attachments = new List<InboundAttachment>();
        var iter = new MimeIterator(message);
        while (iter.MoveNext())
        {
            switch (iter.Current)
            {
                case TnefPart tnef:
                    foreach (var inner in tnef.ExtractAttachments())
                        if (inner is MimePart mp)
                            attachments.Add(Attachment(mp));
                    break;
                case TextPart tp when !tp.IsAttachment && tp.FileName is null && tp.IsPlain:
                    text = text is null ? tp.Text : text + "\n" + tp.Text;
                    break;
                case TextPart tp when !tp.IsAttachment && tp.FileName is null && tp.IsHtml && html is null:
                    html = tp.Text;
                    break;
                case MimePart part:
                    attachments.Add(Attachment(part));
                    break;
                case MessagePart mp when iter.Parent is not MessagePart:
                    // A forwarded message (message/rfc822) is one attachment, as mail clients show it; its own parts
                    // are skipped.
                    using (var ms = new MemoryStream())
                    {
                        mp.Message?.WriteTo(ms);
                        var name = mp.ContentDisposition?.FileName ?? mp.ContentType.Name
                            ?? (string.IsNullOrWhiteSpace(mp.Message?.Subject) ? "ForwardedMessage.eml" : mp.Message!.Subject + ".eml");
                        attachments.Add(new InboundAttachment(name, Convert.ToBase64String(ms.ToArray()), "message/rfc822", ms.Length, mp.ContentId ?? ""));
                    }
                    SkipMessage(iter, mp);
                    break;
            }
        }
        return (text ?? "", html ?? "", attachments);
    }

    private static void SkipMessage(MimeIterator iter, MessagePart part)
    {
        // MimeIterator descends into message/rfc822; step over the embedded message's entities.
        var body = part.Message?.Body;
        if (body is null)
            return;
        var count = body is Multipart ? CountEntities(body) : 1;
        for (var i = 0; i < count && iter.MoveNext(); i++)
        {
        }
    }

    private static int CountEntities(MimeEntity entity) => entity switch
    {
        Multipart m => 1 + m.Sum(CountEntities),
        MessagePart mp when mp.Message?.Body is { } b => 1 + CountEntities(b),
        _ => 1,
    };

    private static InboundAttachment Attachment(MimePart part)
    {
        using var ms = new MemoryStream();
        part.Content?.DecodeTo(ms);
        var name = part.FileName;
        if (string.IsNullOrEmpty(name))
            name = part.ContentId is { Length: > 0 } cid ? cid : "attachment";
        var bytes = ms.ToArray();
        return new InboundAttachment(name, Convert.ToBase64String(bytes), part.ContentType.MimeType, bytes.LongLength, part.ContentId ?? "");
    }
}
