using System.Text.Json;
using Mailroom.Core.Queue;
using MimeKit;
using MimeKit.Utils;

namespace Mailroom.Core.Dmarc;

/// <summary>The email <c>POST /token/recover</c> sends to a record's digest address, holding a new API token.
/// Built as an <see cref="OutboundMessage"/> of no server, like the sender-confirmation email.</summary>
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
        var message = new MimeMessage { Subject = subject, Date = now, MessageId = MimeUtils.GenerateMessageId(platform.MailDomain) };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(record.Email));
        message.Headers.Add("Auto-Submitted", "auto-generated"); // RFC 3834 §5
        message.Body = new TextPart("plain") { Text = text };
        using var mime = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, mime);
        var stored = new OutboundMessage
        {
            Id = Guid.NewGuid(),
            ServerId = null,
            From = from.ToString(),
            Subject = subject,
            Tag = Tag,
            ToJson = JsonSerializer.Serialize(new[] { new { Email = record.Email, Name = "" } }),
            ReturnPathDomain = platform.ReturnPathHost,
            Mime = mime.ToArray(),
            Status = MessageStatus.Queued,
        };
        return new QueuedMessage(stored, [record.Email]);
    }
}
