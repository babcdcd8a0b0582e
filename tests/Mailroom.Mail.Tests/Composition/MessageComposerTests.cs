using System.Text;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using MimeKit;

namespace Mailroom.Mail.Tests.Composition;

public class MessageComposerTests
{
    static MimeMessage Compose(OutboundMessageSpec spec) => Samples.Composer.Compose(spec);

    /// <summary>Compose, write, parse back: what a receiver sees.</summary>
    static (MimeMessage Message, string Wire) RoundTrip(OutboundMessageSpec spec, MessageComposer? composer = null)
    {
        var bytes = WireFormat.ToBytes((composer ?? Samples.Composer).Compose(spec));
        return (Samples.Load(bytes), Samples.Ascii(bytes));
    }

    static string Headers(string wire) => wire[..wire.IndexOf("\r\n\r\n", StringComparison.Ordinal)];

    /// <summary>MimeKit hands parsed text back with the platform's newlines; compare line by line.</summary>
    static string Lines(string? text) => (text ?? "").ReplaceLineEndings("\n").TrimEnd('\n');

    /// <summary>Every line break on the wire is CRLF (RFC 5322 §2.1, RFC 2046 §4.1.1).</summary>
    static void AssertCrlfOnly(string wire)
    {
        for (var i = 0; i < wire.Length; i++)
        {
            if (wire[i] == '\r')
                Assert.True(i + 1 < wire.Length && wire[i + 1] == '\n', $"bare CR at {i}");
            else if (wire[i] == '\n')
                Assert.True(i > 0 && wire[i - 1] == '\r', $"bare LF at {i}");
        }
    }

    static CompositionException Refused(OutboundMessageSpec spec, string field)
    {
        var error = Assert.Throws<CompositionException>(() => Compose(spec));
        Assert.Equal(field, error.Field);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        return error;
    }

    [Fact]
    public void TextOnlyIsASingleTextPlainPart()
    {
        var (message, wire) = RoundTrip(Samples.Simple());
        var part = Assert.IsType<TextPart>(message.Body);
        Assert.True(part.IsPlain);
        Assert.Equal("utf-8", part.ContentType.Charset);
        Assert.Equal("Hello,\nthis is a test.", Lines(part.Text));
        Assert.EndsWith("\r\n\r\nHello,\r\nthis is a test.\r\n", wire);
        Assert.Contains("MIME-Version: 1.0", wire);
    }

    [Fact]
    public void HtmlOnlyIsASingleTextHtmlPart()
    {
        var (message, _) = RoundTrip(Samples.Simple() with { TextBody = null, HtmlBody = "<p>x</p>" });
        Assert.True(Assert.IsType<TextPart>(message.Body).IsHtml);
    }

    [Fact]
    public void NoBodyGivesAnEmptyTextPart()
    {
        var (message, _) = RoundTrip(Samples.Simple() with { TextBody = null });
        Assert.Equal("", Lines(Assert.IsType<TextPart>(message.Body).Text));
    }

    [Fact]
    public void TextAndHtmlMakeMultipartAlternativeTextFirst()
    {
        var (message, _) = RoundTrip(Samples.Simple() with { HtmlBody = "<p>x</p>" });
        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(2, alternative.Count);
        Assert.True(((TextPart)alternative[0]).IsPlain);
        Assert.True(((TextPart)alternative[1]).IsHtml);
    }

    [Fact]
    public void FullStructureIsMixedAlternativeRelated()
    {
        var (message, _) = RoundTrip(Samples.Rich());
        var mixed = Assert.IsType<Multipart>(message.Body);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        Assert.Equal(2, mixed.Count);

        var alternative = Assert.IsType<MultipartAlternative>(mixed[0]);
        Assert.True(((TextPart)alternative[0]).IsPlain);
        var related = Assert.IsType<MultipartRelated>(alternative[1]);
        Assert.Equal("text/html", related.ContentType.Parameters["type"]);
        Assert.Equal(2, related.Count);
        Assert.True(((TextPart)related[0]).IsHtml);
        var image = Assert.IsType<MimePart>(related[1]);
        Assert.Equal("image/png", image.ContentType.MimeType);
        Assert.Equal("logo.png", image.ContentId);
        Assert.Equal(ContentDisposition.Inline, image.ContentDisposition!.Disposition);
        Assert.Equal(Samples.Png, Decode(image));

        var pdf = Assert.IsType<MimePart>(mixed[1]);
        Assert.Equal("application/pdf", pdf.ContentType.MimeType);
        Assert.True(pdf.IsAttachment);
        Assert.Equal("report.pdf", pdf.FileName);
        Assert.Equal(ContentEncoding.Base64, pdf.ContentTransferEncoding);
        Assert.Equal(Samples.Bytes(3000, 7), Decode(pdf));
    }

    [Fact]
    public void InlineAttachmentWithoutHtmlIsARegularAttachment()
    {
        var (message, _) = RoundTrip(Samples.Simple() with { Attachments = [new("logo.png", Samples.Png, "image/png", "cid:logo.png")] });
        var mixed = Assert.IsType<Multipart>(message.Body);
        Assert.IsType<TextPart>(mixed[0]);
        Assert.True(((MimePart)mixed[1]).IsAttachment);
    }

    [Fact]
    public void AttachmentWithoutContentTypeIsOctetStreamAndUnicodeNameSurvives()
    {
        var (message, wire) = RoundTrip(Samples.Simple() with { Attachments = [new("résumé 東京.bin", [1, 2, 3])] });
        var part = (MimePart)((Multipart)message.Body!)[1];
        Assert.Equal("application/octet-stream", part.ContentType.MimeType);
        Assert.Equal("résumé 東京.bin", part.FileName);
        Assert.DoesNotContain("résumé", wire);
    }

    [Fact]
    public void MessageRfc822AttachmentIsCarriedAsAMessage()
    {
        var inner = "From: a@example.com\r\nSubject: inner\r\n\r\nbody\r\n"u8.ToArray();
        var (message, _) = RoundTrip(Samples.Simple() with { Attachments = [new("fwd.eml", inner, "message/rfc822")] });
        var part = Assert.IsType<MessagePart>(((Multipart)message.Body!)[1]);
        Assert.Equal("inner", part.Message!.Subject);
        Assert.Equal("fwd.eml", part.ContentDisposition!.FileName);
    }

    [Fact]
    public void BccIsNeverWrittenButIsAnEnvelopeRecipient()
    {
        var spec = Samples.Rich();
        var (message, wire) = RoundTrip(spec);
        Assert.DoesNotContain("hidden@example.net", wire);
        Assert.DoesNotContain("bcc:", Headers(wire), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(message.Bcc);
        Assert.Equal(["jo@example.org", "ann@example.org", "carl@example.net", "hidden@example.net"], spec.EnvelopeRecipients());
        Assert.Equal(4, spec.RecipientCount);
    }

    [Fact]
    public void EnvelopeRecipientsAreDeduplicatedIgnoringCase()
    {
        var spec = Samples.Simple() with { Cc = [NamedAddress.Of("JO@example.org")], Bcc = [NamedAddress.Of("x@example.org")] };
        Assert.Equal(["jo@example.org", "x@example.org"], spec.EnvelopeRecipients());
    }

    [Fact]
    public void AddressesSubjectDateAndMessageIdAreWritten()
    {
        var (message, wire) = RoundTrip(Samples.Rich());
        Assert.Equal("\"Sender\" <sender@mail.example.com>", message.From.ToString());
        Assert.Equal(["jo@example.org", "ann@example.org"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("Jo Smith", message.To.Mailboxes.First().Name);
        Assert.Equal("carl@example.net", message.Cc.Mailboxes.Single().Address);
        Assert.Equal("support@example.com", message.ReplyTo.Mailboxes.Single().Address);
        Assert.Equal("Support", message.ReplyTo.Mailboxes.Single().Name);
        Assert.Equal("Test message", message.Subject);
        Assert.Equal(Samples.SigningTime, message.Date);
        Assert.Equal("6f9619ff-8b86-d011-b42d-00c04fc964ff@mtasv.example.net", message.MessageId);
        Assert.Contains("\r\nMessage-ID: <6f9619ff-8b86-d011-b42d-00c04fc964ff@mtasv.example.net>\r\n", wire);
        Assert.Single(message.Headers, h => h.Id == HeaderId.Subject);
        Assert.Single(message.Headers, h => h.Id == HeaderId.From);
        Assert.Single(message.Headers, h => h.Id == HeaderId.Date);
        Assert.Single(message.Headers, h => h.Id == HeaderId.MessageId);
    }

    [Fact]
    public void NoSubjectMeansNoSubjectHeader()
    {
        var (message, _) = RoundTrip(Samples.Simple() with { Subject = null });
        Assert.DoesNotContain(message.Headers, h => h.Id == HeaderId.Subject);
    }

    [Fact]
    public void CustomHeadersAreWrittenInOrder()
    {
        var (message, wire) = RoundTrip(Samples.Rich() with
        {
            Headers = [new("X-Tag", "one"), new("X-Tag", "two"), new("In-Reply-To", "<a@b.example>"), new("X-Unicode", "Café crème")],
        });
        Assert.Equal(["one", "two"], message.Headers.Where(h => h.Field == "X-Tag").Select(h => h.Value));
        Assert.Equal("a@b.example", message.InReplyTo);
        Assert.Equal("Café crème", message.Headers["X-Unicode"]);
        Assert.Contains("X-Unicode: =?utf-8?", wire);
    }

    [Fact]
    public void UnicodeSubjectAndNamesAreRfc2047Encoded()
    {
        const string subject = "Grüße — 日本語の件名 🚀 with some more words to make it longer than one line of seventy-eight";
        var (message, wire) = RoundTrip(Samples.Simple() with
        {
            Subject = subject,
            From = new NamedAddress("Zoë Ünal, Ösa", "sender@mail.example.com"),
            To = [new NamedAddress("山田 \"Taro\" 太郎", "taro@example.jp")],
        });
        Assert.All(wire, c => Assert.True(c < 128));
        Assert.Contains("=?utf-8?", Headers(wire));
        Assert.Equal(subject, message.Subject);
        Assert.Equal("Zoë Ünal, Ösa", message.From.Mailboxes.Single().Name);
        Assert.Equal("山田 \"Taro\" 太郎", message.To.Mailboxes.Single().Name);
        Assert.All(Headers(wire).Split("\r\n"), line => Assert.True(line.Length <= 78, line));
    }

    [Fact]
    public void LongLinesAreEncodedToShortLinesAndDecodeBack()
    {
        var text = "before\n" + Samples.LongLine(5000) + "\nafter";
        var html = "<p>" + Samples.LongLine(2500) + "</p>";
        var (message, wire) = RoundTrip(Samples.Simple(text) with { HtmlBody = html });
        Assert.All(wire.Split("\r\n"), line => Assert.True(line.Length <= 78, $"line of {line.Length}"));
        AssertCrlfOnly(wire);
        Assert.Equal(Lines(text), Lines(message.TextBody));
        Assert.Equal(html, Lines(message.HtmlBody));
    }

    [Fact]
    public void EightBitTextIsTransferEncodedAndDecodesBack()
    {
        const string text = "à é è ù ç œ ß ñ ø å «» € — 東京";
        var (message, wire) = RoundTrip(Samples.Simple(text) with { HtmlBody = "<p>" + text + "</p>" });
        Assert.All(wire, c => Assert.True(c < 128));
        Assert.Equal(text, message.TextBody);
        Assert.Equal("<p>" + text + "</p>", message.HtmlBody);
        var part = (TextPart)((MultipartAlternative)message.Body!)[0];
        Assert.Contains(part.ContentTransferEncoding, new[] { ContentEncoding.QuotedPrintable, ContentEncoding.Base64 });
    }

    [Fact]
    public void LineBreaksAreNormalizedToCrlf()
    {
        var (message, wire) = RoundTrip(Samples.Simple("a\nb\rc\r\nd"));
        AssertCrlfOnly(wire);
        Assert.EndsWith("\r\n\r\na\r\nb\r\nc\r\nd\r\n", wire);
        Assert.Equal("a\nb\nc\nd", Lines(message.TextBody));

        // Base64 carries the text as is, so it must already be CRLF inside.
        var (unicode, _) = RoundTrip(Samples.Simple("東京\n東京\r東京"));
        var part = Assert.IsType<TextPart>(unicode.Body);
        using var decoded = new MemoryStream();
        part.Content!.DecodeTo(decoded, TestContext.Current.CancellationToken);
        Assert.Equal("東京\r\n東京\r\n東京", System.Text.Encoding.UTF8.GetString(decoded.ToArray()));
    }

    [Theory]
    [InlineData("Subject\r\nBcc: victim@example.com")]
    [InlineData("Subject\nX-Evil: 1")]
    [InlineData("Subject\r")]
    [InlineData("nul\0byte")]
    public void SubjectInjectionIsRefused(string subject)
    {
        var error = Refused(Samples.Simple() with { Subject = subject }, "Subject");
        Assert.Contains("Subject", error.Message);
    }

    [Theory]
    [InlineData("X-Ok", "value\r\nBcc: victim@example.com", "Headers[0].Value")]
    [InlineData("X-Ok", "value\nX-Evil: 1", "Headers[0].Value")]
    [InlineData("X-Evil\r\nBcc", "value", "Headers[0].Name")]
    [InlineData("X Space", "value", "Headers[0].Name")]
    [InlineData("X:Colon", "value", "Headers[0].Name")]
    [InlineData("Naïve", "value", "Headers[0].Name")]
    [InlineData("", "value", "Headers[0].Name")]
    public void HeaderInjectionAndBadNamesAreRefused(string name, string value, string field)
    {
        Refused(Samples.Simple() with { Headers = [new(name, value)] }, field);
    }

    [Theory]
    [InlineData("List-Unsubscribe", "<https://exämple.com/ü>")]
    [InlineData("References", "<ü@example.com>")]
    public void NonAsciiInStructuredHeadersIsRefused(string name, string value)
    {
        Refused(Samples.Simple() with { Headers = [new(name, value)] }, "Headers[0].Value");
    }

    [Fact]
    public void ErrorNamesTheIndexOfTheBadHeader()
    {
        Refused(Samples.Simple() with { Headers = [new("X-A", "ok"), new("X-B", "bad\r\n")] }, "Headers[1].Value");
    }

    [Theory]
    [InlineData("From")]
    [InlineData("to")]
    [InlineData("CC")]
    [InlineData("Bcc")]
    [InlineData("Reply-To")]
    [InlineData("Subject")]
    [InlineData("Date")]
    [InlineData("Message-ID")]
    [InlineData("Return-Path")]
    [InlineData("DKIM-Signature")]
    [InlineData("Received")]
    [InlineData("Content-Type")]
    [InlineData("Content-Transfer-Encoding")]
    [InlineData("Content-Disposition")]
    [InlineData("MIME-Version")]
    [InlineData("Sender")]
    [InlineData("X-PM-Tag")]
    [InlineData("x-pm-message-stream")]
    [InlineData("Resent-Bcc")]
    [InlineData("Authentication-Results")]
    [InlineData("ARC-Seal")]
    public void ReservedHeadersAreRefused(string name)
    {
        var error = Refused(Samples.Simple() with { Headers = [new(name, "x@example.com")] }, "Headers[0].Name");
        Assert.Contains(name, error.Message);
        Assert.True(MessageComposer.IsReservedHeader(name));
    }

    [Theory]
    [InlineData("X-Campaign")]
    [InlineData("List-Unsubscribe")]
    [InlineData("In-Reply-To")]
    [InlineData("References")]
    [InlineData("Feedback-ID")]
    public void OrdinaryHeadersAreNotReserved(string name) => Assert.False(MessageComposer.IsReservedHeader(name));

    [Fact]
    public void SingleUseHeadersMayNotRepeat()
    {
        Refused(Samples.Simple() with { Headers = [new("In-Reply-To", "<a@b.c>"), new("in-reply-to", "<d@e.f>")] }, "Headers[1].Name");
    }

    [Fact]
    public void CustomMessageIdOnlyWhenAllowed()
    {
        Refused(Samples.Simple() with { Headers = [new("Message-ID", "<custom@example.com>")] }, "Headers[0].Name");

        var composer = new MessageComposer(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net", AllowCustomMessageId = true });
        Assert.False(MessageComposer.IsReservedHeader("Message-ID", allowCustomMessageId: true));
        var (message, _) = RoundTrip(Samples.Simple() with { Headers = [new("Message-ID", "<custom.1@example.com>")] }, composer);
        Assert.Equal("custom.1@example.com", message.MessageId);
        Assert.Single(message.Headers, h => h.Id == HeaderId.MessageId);

        var error = Assert.Throws<CompositionException>(() => composer.Compose(Samples.Simple() with { Headers = [new("Message-ID", "no-brackets@example.com")] }));
        Assert.Equal("Headers[0].Value", error.Field);
    }

    [Fact]
    public void WordTooLongForAHeaderLineIsRefused()
    {
        Refused(Samples.Simple() with { Headers = [new("X-Long", Samples.LongLine(1000))] }, "Headers[0].Value");
        Refused(Samples.Simple() with { Subject = Samples.LongLine(995) }, "Subject");
        var (message, _) = RoundTrip(Samples.Simple() with { Headers = [new("X-Long", Samples.LongLine(900))] });
        Assert.Equal(Samples.LongLine(900), message.Headers["X-Long"]);

        // MimeKit folds References between msg-ids; it writes In-Reply-To on one line, so a long one is refused.
        var ids = string.Join(" ", Enumerable.Range(0, 60).Select(i => $"<message-{i}@example.com>"));
        var (threaded, wire) = RoundTrip(Samples.Simple() with { Headers = [new("References", ids)] });
        Assert.Equal(60, threaded.References.Count);
        Assert.All(wire.Split("\r\n"), line => Assert.True(line.Length <= 998));
        Refused(Samples.Simple() with { Headers = [new("In-Reply-To", ids)] }, "Headers[0].Value");
    }

    [Fact]
    public void DisplayNameInjectionIsRefusedWithTheFieldNamed()
    {
        Refused(Samples.Simple() with { From = new NamedAddress("Evil\r\nBcc: x@example.com", "sender@mail.example.com") }, "From");
        Refused(Samples.Simple() with { To = [new NamedAddress("Evil\n", "jo@example.org")] }, "To");
        Refused(Samples.Simple() with { Cc = [new NamedAddress("Evil\r", "jo@example.org")] }, "Cc");
        Refused(Samples.Simple() with { ReplyTo = [new NamedAddress("Evil\u0007", "jo@example.org")] }, "ReplyTo");
    }

    [Fact]
    public void InvalidAddressesAreRefusedWithTheFieldNamed()
    {
        Refused(Samples.Simple() with { From = NamedAddress.Of("not-an-address") }, "From");
        Refused(Samples.Simple() with { To = [NamedAddress.Of("jo@example.org\r\nBcc: x@y.z")] }, "To");
        Refused(Samples.Simple() with { Cc = [NamedAddress.Of("carl@")] }, "Cc");
        Refused(Samples.Simple() with { Bcc = [NamedAddress.Of("a b@example.org")] }, "Bcc");
        Refused(Samples.Simple() with { ReplyTo = [NamedAddress.Of("<r@example.org>")] }, "ReplyTo");
    }

    [Fact]
    public void ARecipientIsRequired()
    {
        Refused(Samples.Simple() with { To = [] }, "To");
        Assert.NotNull(Compose(Samples.Simple() with { To = [], Bcc = [NamedAddress.Of("only@example.org")] }));
    }

    [Theory]
    [InlineData("bad\r\nname.pdf", "image/png", null, "Attachments[0].Name")]
    [InlineData("", "image/png", null, "Attachments[0].Name")]
    [InlineData("a.png", "image/png\r\nX-Evil: 1", null, "Attachments[0].ContentType")]
    [InlineData("a.png", "not a type", null, "Attachments[0].ContentType")]
    [InlineData("a.png", "multipart/mixed", null, "Attachments[0].ContentType")]
    [InlineData("a.png", "image/png", "cid:bad id", "Attachments[0].ContentID")]
    [InlineData("a.png", "image/png", "cid:x\r\nX-Evil: 1", "Attachments[0].ContentID")]
    public void BadAttachmentsAreRefused(string name, string contentType, string? contentId, string field)
    {
        Refused(Samples.Simple() with { HtmlBody = "<p/>", Attachments = [new(name, [1], contentType, contentId)] }, field);
    }

    [Theory]
    [InlineData("cid:logo.png")]
    [InlineData("logo.png")]
    [InlineData("<logo.png>")]
    [InlineData("CID:logo.png")]
    public void ContentIdFormsAreAccepted(string contentId)
    {
        var (message, _) = RoundTrip(Samples.Simple() with { TextBody = null, HtmlBody = "<img src=\"cid:logo.png\">", Attachments = [new("logo.png", Samples.Png, "image/png", contentId)] });
        var related = Assert.IsType<MultipartRelated>(message.Body);
        Assert.Equal("logo.png", related[1].ContentId);
    }

    [Fact]
    public void OptionsRequireAValidMessageIdDomain()
    {
        Assert.Throws<ArgumentException>(() => new MessageComposer(new MessageComposerOptions { MessageIdDomain = "not a domain" }));
    }

    static byte[] Decode(MimePart part)
    {
        using var stream = new MemoryStream();
        part.Content!.DecodeTo(stream);
        return stream.ToArray();
    }
}
