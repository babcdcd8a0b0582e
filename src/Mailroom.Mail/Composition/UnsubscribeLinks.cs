using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Composition;

/// <summary>
/// Puts one recipient's unsubscribe links into a message before it is DKIM-signed: <c>List-Unsubscribe</c> with an
/// https and a mailto URI (RFC 2369 §3.2: each in angle brackets, comma-separated, in order of preference),
/// <c>List-Unsubscribe-Post: List-Unsubscribe=One-Click</c> (RFC 8058 §3.1; both must then be covered by the DKIM
/// signature, RFC 8058 §4, which <see cref="Dkim.DkimSigning.SignedHeaderNames"/> does), and the https URL in place of
/// every <c>{{{ pm:unsubscribe }}}</c> in the text and HTML bodies (Postmark's placeholder, spec §11). Headers of the
/// same names already in the message are replaced: the stream's unsubscribes are Mailroom's to handle.
/// </summary>
public static partial class UnsubscribeLinks
{
    [GeneratedRegex(@"\{\{\{\s*pm:unsubscribe\s*\}\}\}", RegexOptions.CultureInvariant)]
    public static partial Regex Placeholder();

    public static void Apply(MimeMessage message, string httpsUrl, string mailtoUrl)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Headers.RemoveAll("List-Unsubscribe");
        message.Headers.RemoveAll("List-Unsubscribe-Post");
        message.Headers.Add("List-Unsubscribe", $"<{httpsUrl}>, <{mailtoUrl}>");
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        foreach (var part in message.BodyParts.OfType<TextPart>())
        {
            if (part.IsAttachment || !(part.IsPlain || part.IsHtml))
                continue;
            var text = part.Text;
            if (!Placeholder().IsMatch(text))
                continue;
            part.SetText(part.ContentType.Charset ?? "utf-8", Placeholder().Replace(text, httpsUrl));
        }
    }
}
