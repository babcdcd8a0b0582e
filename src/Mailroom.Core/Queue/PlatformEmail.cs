using System.Text.Json;
using MimeKit;
using MimeKit.Utils;

namespace Mailroom.Core.Queue;

/// <summary>
/// An email the platform itself sends (sender confirmations, DMARC token recovery, DMARC digests): an
/// <see cref="OutboundMessage"/> of no server, queued like any other, signed by the platform key at Preparation.
/// </summary>
public static class PlatformEmail
{
    public static QueuedMessage Compose(PlatformSettings platform, MailboxAddress from, MailboxAddress to, string subject, string tag,
        MimeEntity body, DateTimeOffset now)
    {
        var message = new MimeMessage { Subject = subject, Date = now, MessageId = MimeUtils.GenerateMessageId(platform.MailDomain) };
        message.From.Add(from);
        message.To.Add(to);
        // RFC 3834 §5: an automatic message; auto-responders must not answer it.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        message.Body = body;
        using var mime = new MemoryStream();
        // SMTP lines end in CRLF (RFC 5321 §2.3.8); store the message as it will travel.
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, mime);
        var stored = new OutboundMessage
        {
            Id = OutboundMessage.NewId(now),
            ServerId = null,
            From = from.ToString(),
            Subject = subject,
            Tag = tag,
            ToJson = JsonSerializer.Serialize(new[] { new { Email = to.Address, Name = to.Name ?? "" } }),
            ReturnPathDomain = platform.ReturnPathHost,
            Mime = mime.ToArray(),
            Status = MessageStatus.Queued,
        };
        return new QueuedMessage(stored, [to.Address]);
    }
}
