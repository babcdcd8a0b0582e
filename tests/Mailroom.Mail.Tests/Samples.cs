using System.Text;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;
using MimeKit;

namespace Mailroom.Mail.Tests;

/// <summary>Shared test data: keys (generated once per run) and message descriptions.</summary>
static class Samples
{
    static readonly Lazy<DkimKeyPair> key = new(() => DkimKeyPair.Generate());
    static readonly Lazy<DkimKeyPair> otherKey = new(() => DkimKeyPair.Generate());

    public static DkimKeyPair Key => key.Value;
    public static DkimKeyPair OtherKey => otherKey.Value;

    public const string Domain = "mail.example.com";
    public const string Selector = "20240501093000pm";

    public static DkimKey DkimKey => new(Domain, Selector, Key.PrivateKeyPem);

    /// <summary>A fixed signing time in the past: dkimpy rejects t= in the future.</summary>
    public static readonly DateTimeOffset SigningTime = new(2024, 5, 1, 9, 30, 5, TimeSpan.Zero);

    public static readonly Guid MessageId = Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff");

    public static MessageComposer Composer { get; } = new(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net" });

    public static OutboundMessageSpec Simple(string text = "Hello,\nthis is a test.\n") => new()
    {
        From = new NamedAddress("Sender", "sender@mail.example.com"),
        To = [new NamedAddress("Jo Smith", "jo@example.org")],
        Subject = "Test message",
        TextBody = text,
        MessageId = MessageId,
        Date = SigningTime,
    };

    public static OutboundMessageSpec Rich() => Simple() with
    {
        To = [new NamedAddress("Jo Smith", "jo@example.org"), NamedAddress.Of("ann@example.org")],
        Cc = [new NamedAddress("Carl", "carl@example.net")],
        Bcc = [NamedAddress.Of("hidden@example.net")],
        ReplyTo = [new NamedAddress("Support", "support@example.com")],
        HtmlBody = "<html><body><p>Hello <b>Jo</b></p><img src=\"cid:logo.png\"></body></html>",
        Headers =
        [
            new MessageHeader("X-Campaign", "spring-2024"),
            new MessageHeader("List-Unsubscribe", "<mailto:unsub@example.com?subject=u>, <https://example.com/u/abc>"),
            new MessageHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            new MessageHeader("Feedback-ID", "a:b:c:mailroom"),
        ],
        Attachments =
        [
            new MessageAttachment("logo.png", Png, "image/png", "cid:logo.png"),
            new MessageAttachment("report.pdf", Bytes(3000, 7), "application/pdf"),
        ],
    };

    /// <summary>A tiny PNG-like payload (the signature does not care that it is not a real image).</summary>
    public static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 1, 2, 3, 4, 5];

    public static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string LongLine(int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; builder.Length < length; i++)
            builder.Append((char)('a' + i % 26));
        return builder.ToString();
    }

    public static MimeMessage Load(byte[] bytes) => MimeMessage.Load(new MemoryStream(bytes));

    public static string Ascii(byte[] bytes) => Encoding.ASCII.GetString(bytes);
}
