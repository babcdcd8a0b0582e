using System.Globalization;
using System.Net;
using System.Text;
using Mailroom.Core.Queue;
using MimeKit;

namespace Mailroom.Core.Identities;

/// <summary>
/// The email that asks the owner of an address to confirm a sender signature: plain text and HTML, the account's
/// personal note HTML-escaped, the one-time link, DKIM-signed with the platform key when there is a platform domain.
/// Built as an <see cref="OutboundMessage"/> of no server, ready for <see cref="OutboundQueue.AddTo"/>.
/// </summary>
public static class SenderConfirmationEmail
{
    public const string Tag = "sender-confirmation";

    public static QueuedMessage Compose(SenderSignature signature, string accountName, string link, DateTime expiresAt,
        PlatformSettings platform, DateTimeOffset now)
    {
        var from = new MailboxAddress("Mailroom", platform.PlatformDomain is { } d ? "confirm@" + d : "no-reply@" + platform.MailDomain);
        var to = new MailboxAddress(signature.Name, signature.EmailAddress);
        var subject = $"Confirm {signature.EmailAddress} as a sender";
        var expires = expiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        var note = signature.ConfirmationPersonalNote.Trim();

        var text = new StringBuilder()
            .Append("Hello ").Append(signature.Name).Append(",\n\n")
            .Append(accountName).Append(" would like to send email from ").Append(signature.EmailAddress)
            .Append(" through Mailroom at ").Append(platform.PublicUrl).Append(".\n\n");
        if (note.Length > 0)
            text.Append("Their note to you:\n\n").Append(note).Append("\n\n");
        text.Append("If this is your address and you agree, confirm it by opening this link before ").Append(expires).Append(":\n\n")
            .Append(link).Append("\n\n")
            .Append("If you did not expect this message, ignore it: nothing will be sent from your address, and the link expires.\n");

        var html = new StringBuilder()
            .Append("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">")
            .Append("<p>Hello ").Append(Html(signature.Name)).Append(",</p>")
            .Append("<p>").Append(Html(accountName)).Append(" would like to send email from <b>").Append(Html(signature.EmailAddress))
            .Append("</b> through Mailroom at ").Append(Html(platform.PublicUrl)).Append(".</p>");
        if (note.Length > 0)
            html.Append("<p>Their note to you:</p><blockquote style=\"white-space:pre-wrap\">").Append(Html(note)).Append("</blockquote>");
        html.Append("<p>If this is your address and you agree, confirm it before ").Append(expires).Append(":</p>")
            .Append("<p><a href=\"").Append(Html(link)).Append("\">Confirm ").Append(Html(signature.EmailAddress)).Append("</a></p>")
            .Append("<p style=\"color:#666\">If you did not expect this message, ignore it: nothing will be sent from your address, and the link expires.</p>")
            .Append("</body></html>");

        return PlatformEmail.Compose(platform, from, to, subject, Tag,
            new BodyBuilder { TextBody = text.ToString(), HtmlBody = html.ToString() }.ToMessageBody(), now);
    }

    private static string Html(string s) => WebUtility.HtmlEncode(s);
}
