using Mailroom.Core.Queue;
using MimeKit;

namespace Mailroom.Core.Dmarc;

/// <summary>The email <c>POST /token/recover</c> sends to a record's digest address, holding a new API token.
/// A <see cref="PlatformEmail"/>, like the sender-confirmation email.</summary>
public static class DmarcTokenEmail
{
    public const string Tag = "dmarc-token-recovery";

    public static QueuedMessage Compose(DmarcDomain record, string token, PlatformSettings platform, DateTimeOffset now)
    {
        var from = new MailboxAddress("Mailroom DMARC", platform.PlatformDomain is { } d ? "dmarc@" + d : "no-reply@" + platform.MailDomain);
        var subject = $"Your DMARC monitoring token for {record.Domain}";
        var text = $"Someone asked to recover the API token of DMARC monitoring for {record.Domain} at {platform.PublicUrl}.\n\n" +
                   $"New token (send it as the X-Api-Token header): {token}\n\n" +
                   "Your previous token keeps working until this one is first used. If you did not ask for this, ignore this message.\n";
        return PlatformEmail.Compose(platform, from, MailboxAddress.Parse(record.Email), subject, Tag, new TextPart("plain") { Text = text }, now);
    }
}
