using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// A bounded walk over a notification message: its human-readable text, its machine-readable report
/// parts (RFC 3464 <c>message/delivery-status</c>, RFC 5965 <c>message/feedback-report</c>) and the
/// messages it encloses (<c>message/rfc822</c>, <c>text/rfc822-headers</c>). Enclosed messages are not
/// walked into: their text is the original mail, not the report. All work is capped, so hostile input
/// (deep nesting, thousands of parts, huge bodies) costs bounded time.
/// </summary>
internal sealed partial class NotificationParts
{
    public const int MaxDepth = 32;
    public const int MaxEntities = 256;
    public const int MaxTextChars = 256 * 1024;
    private const int MaxDecodedBytesPerPart = 512 * 1024;

    public required MimeMessage Message { get; init; }

    /// <summary>The <c>report-type</c> parameter of a top-level or nested <c>multipart/report</c> (RFC 6522 §3), lower case.</summary>
    public string? ReportType { get; private set; }

    public List<MessageDeliveryStatus> DeliveryStatus { get; } = [];

    /// <summary>
    /// Text of report fields that MimeKit did not type: <c>text/plain</c> (or other) parts holding DSN or
    /// ARF fields, and the raw body of a multipart whose boundaries could not be matched.
    /// </summary>
    public List<string> UntypedReportTexts { get; } = [];

    public List<MessageFeedbackReport> FeedbackReports { get; } = [];

    /// <summary>Enclosed messages (or header-only messages) in document order.</summary>
    public List<MimeMessage> Enclosed { get; } = [];

    /// <summary>Plain text of the human-readable parts (HTML stripped when there is no plain text), capped.</summary>
    public string Text { get; private set; } = "";

    public static NotificationParts Read(MimeMessage message)
    {
        var parts = new NotificationParts { Message = message };
        var plain = new StringBuilder();
        var html = new StringBuilder();
        var stack = new Stack<(MimeEntity Entity, int Depth)>();
        if (message.Body is { } body)
            stack.Push((body, 0));
        var visited = 0;
        var reparsed = false;
        var openedNested = false;
        while (stack.Count > 0 && visited++ < MaxEntities)
        {
            var (entity, depth) = stack.Pop();
            switch (entity)
            {
                case Multipart multipart:
                    if (multipart.ContentType.IsMimeType("multipart", "report") && parts.ReportType is null)
                        parts.ReportType = multipart.ContentType.Parameters["report-type"]?.Trim().ToLowerInvariant();
                    if (depth >= MaxDepth)
                        break;
                    if (multipart.Count == 0)
                    {
                        // No part matched the declared boundary: everything sits in the preamble.
                        var raw = SmtpReplyText.Truncate((multipart.Preamble ?? "") + "\n" + (multipart.Epilogue ?? ""), MaxTextChars);
                        if (!reparsed && Reparse(multipart, raw) is { } repaired)
                        {
                            reparsed = true;
                            stack.Push((repaired, depth + 1));
                        }
                        else
                        {
                            plain.Append(raw).Append('\n');
                            if (raw.Contains("Final-Recipient:", StringComparison.OrdinalIgnoreCase) || raw.Contains("Feedback-Type:", StringComparison.OrdinalIgnoreCase))
                                parts.UntypedReportTexts.Add(raw);
                        }
                        break;
                    }
                    var count = Math.Min(multipart.Count, MaxEntities);
                    for (var i = count - 1; i >= 0; i--)
                        stack.Push((multipart[i], depth + 1));
                    break;
                case MessageDeliveryStatus dsn:
                    parts.DeliveryStatus.Add(dsn);
                    break;
                case MessageFeedbackReport arf:
                    parts.FeedbackReports.Add(arf);
                    break;
                case MessagePart { Message: { } enclosed } when !openedNested && parts.DeliveryStatus.Count == 0 && depth < MaxDepth && IsDeliveryReport(enclosed):
                    // A DSN forwarded as an attachment (a relay or a user passing the bounce on): the report
                    // is inside the enclosed message. Open it once; its own enclosed original is the original.
                    openedNested = true;
                    stack.Push((enclosed.Body!, depth + 1));
                    break;
                case MessagePart { Message: { } enclosed }:
                    // message/rfc822, message/global, and text/rfc822-headers (TextRfc822Headers derives from MessagePart).
                    parts.Enclosed.Add(enclosed);
                    break;
                case TextPart text when IsHeaderText(text):
                    if (LoadHeaders(ReadText(text, 64 * 1024)) is { } headersOnly)
                        parts.Enclosed.Add(headersOnly);
                    break;
                case TextPart text when LooksLikeReportFields(text):
                    // Report fields sent as text/plain: read them as fields, and keep the text as well,
                    // since non-MIME bounces put the human explanation in the same part.
                    var fieldsText = ReadText(text, MaxTextChars);
                    parts.UntypedReportTexts.Add(fieldsText);
                    if (plain.Length < MaxTextChars)
                        plain.Append(SmtpReplyText.Truncate(fieldsText, MaxTextChars - plain.Length)).Append('\n');
                    break;
                case TextPart text when text.IsHtml:
                    if (html.Length < MaxTextChars)
                        html.Append(ReadText(text, MaxTextChars - html.Length)).Append('\n');
                    break;
                case TextPart text when !text.IsAttachment || text.ContentType.IsMimeType("text", "plain"):
                    if (plain.Length < MaxTextChars)
                        plain.Append(ReadText(text, MaxTextChars - plain.Length)).Append('\n');
                    break;
                case MimePart part when part.ContentType.MediaType.Equals("message", StringComparison.OrdinalIgnoreCase):
                    // message/* subtypes MimeKit leaves untyped (e.g. message/feedback-report spelled oddly).
                    parts.UntypedReportTexts.Add(ReadText(part, MaxTextChars));
                    break;
            }
        }
        var textBody = plain.Length > 0 ? plain.ToString() : SmtpReplyText.StripHtml(html.ToString());
        parts.Text = textBody.Length <= MaxTextChars ? textBody : textBody[..MaxTextChars];
        return parts;
    }

    /// <summary>An enclosed message that is itself an RFC 3464 report: <c>multipart/report; report-type=delivery-status</c> (RFC 6522 §3) with a <c>message/delivery-status</c> part.</summary>
    private static bool IsDeliveryReport(MimeMessage enclosed) =>
        enclosed.Body is Multipart { } report
        && report.ContentType.IsMimeType("multipart", "report")
        && report.Take(MaxEntities).Any(p => p is MessageDeliveryStatus);

    /// <summary>
    /// A multipart whose body does not use the declared boundary (seen in the wild: the header says one
    /// boundary, the body uses another): if the preamble has a delimiter line (RFC 2046 §5.1.1) used at
    /// least twice, parse the body again with that boundary.
    /// </summary>
    private static MimeEntity? Reparse(Multipart multipart, string raw)
    {
        var m = DelimiterLine().Match(raw);
        if (!m.Success)
            return null;
        var boundary = m.Groups[1].Value;
        if (raw.IndexOf("--" + boundary, m.Index + m.Length, StringComparison.Ordinal) < 0)
            return null;
        try
        {
            var type = new ContentType(multipart.ContentType.MediaType, multipart.ContentType.MediaSubtype) { Boundary = boundary };
            foreach (var parameter in multipart.ContentType.Parameters)
                if (!parameter.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))
                    type.Parameters.Add(parameter.Name, parameter.Value);
            var text = "Content-Type: " + type.ToString().Replace("Content-Type: ", "", StringComparison.OrdinalIgnoreCase) + "\r\n\r\n" + raw;
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
            var entity = MimeEntity.Load(new ParserOptions { MaxMimeDepth = 8 }, stream);
            return entity is Multipart { Count: > 0 } ? entity : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^--([^\s]{1,70}?)\r?$", RegexOptions.Multiline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex DelimiterLine();

    /// <summary>The decoded text of a part, at most <paramref name="maxChars"/> characters, never throwing.</summary>
    public static string ReadText(MimePart part, int maxChars)
    {
        try
        {
            if (part.Content is null)
                return "";
            using var stream = part.Content.Open();
            var buffer = new byte[Math.Min(MaxDecodedBytesPerPart, Math.Max(maxChars, 1) * 4)];
            var read = 0;
            int n;
            while (read < buffer.Length && (n = stream.Read(buffer, read, buffer.Length - read)) > 0)
                read += n;
            var text = Decode(buffer.AsSpan(0, read), part.ContentType);
            return text.Length <= maxChars ? text : text[..maxChars];
        }
        catch (Exception)
        {
            return "";
        }
    }

    private static string Decode(ReadOnlySpan<byte> bytes, ContentType contentType)
    {
        Encoding? encoding = null;
        try
        {
            if (contentType.Charset is not null)
                encoding = contentType.CharsetEncoding;
        }
        catch (Exception)
        {
            encoding = null;
        }
        if (encoding is not null)
        {
            try
            {
                return encoding.GetString(bytes);
            }
            catch (Exception)
            {
                // fall through to UTF-8 / Latin-1 guessing
            }
        }
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        try
        {
            return utf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }

    private static bool IsHeaderText(TextPart text) =>
        text.ContentType.IsMimeType("text", "rfc822-headers") || text.ContentType.IsMimeType("text", "rfc822-header");

    private static bool LooksLikeReportFields(TextPart text)
    {
        if (text.IsHtml)
            return false;
        var head = ReadText(text, 2048);
        return head.Contains("Final-Recipient:", StringComparison.OrdinalIgnoreCase)
            || (head.Contains("Feedback-Type:", StringComparison.OrdinalIgnoreCase) && head.Contains("User-Agent:", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Parses headers (and whatever body follows) from text; null when nothing header-like is found.</summary>
    public static MimeMessage? LoadHeaders(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        try
        {
            var bytes = Encoding.UTF8.GetBytes(text.Length <= 128 * 1024 ? text : text[..(128 * 1024)]);
            using var stream = new MemoryStream(bytes, writable: false);
            var options = new ParserOptions { MaxMimeDepth = 8 };
            var loaded = MimeMessage.Load(options, stream);
            return loaded.Headers.Count > 0 ? loaded : null;
        }
        catch (Exception)
        {
            return null;
        }
    }
}
