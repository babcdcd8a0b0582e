using System.Text;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;
using MimeKit;
using MimeKit.Cryptography;

namespace Mailroom.Mail.Tests.Dkim;

public class DkimSigningTests
{
    static string DnsName => DkimSelector.DnsName(Samples.Selector, Samples.Domain);

    static byte[] ComposeAndSign(OutboundMessageSpec spec)
    {
        var message = Samples.Composer.Compose(spec);
        DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime);
        return WireFormat.ToBytes(message);
    }

    static void AssertVerifies(byte[] signed)
    {
        var result = PythonDkimVerifier.Verify(signed, Samples.Key.DnsTxtValue, DnsName);
        Assert.True(result.Passed, $"dkimpy: {result.Verdict}\n{result.Log}\n--- message ---\n{Samples.Ascii(signed)}");
    }

    static void AssertFails(byte[] signed, string? txt = null)
    {
        var result = PythonDkimVerifier.Verify(signed, txt ?? Samples.Key.DnsTxtValue, DnsName);
        Assert.False(result.Passed, "dkimpy accepted a message it should have rejected:\n" + Samples.Ascii(signed));
    }

    public static TheoryData<string> Kinds =>
        ["text", "html", "text+html", "attachments", "inline-image", "unicode", "long-lines", "8bit", "rich", "crlf-mix", "rfc822-attachment"];

    static OutboundMessageSpec Spec(string kind) => kind switch
    {
        "text" => Samples.Simple(),
        "html" => Samples.Simple() with { TextBody = null, HtmlBody = "<p>Only <i>HTML</i></p>" },
        "text+html" => Samples.Simple() with { HtmlBody = "<p>Hello</p>" },
        "attachments" => Samples.Simple() with
        {
            Attachments = [new("data.bin", Samples.Bytes(10_000, 1), "application/octet-stream"), new("notes.txt", Encoding.UTF8.GetBytes("plain\nnotes\n"), "text/plain")],
        },
        "inline-image" => Samples.Simple() with
        {
            HtmlBody = "<img src=\"cid:logo.png\"> logo",
            Attachments = [new("logo.png", Samples.Png, "image/png", "cid:logo.png")],
        },
        "unicode" => Samples.Simple("Grüße aus Köln — 東京 👋") with
        {
            From = new NamedAddress("Zoë Ünal, Ösa", "sender@mail.example.com"),
            To = [new NamedAddress("Jürgen Müller", "jm@example.org"), new NamedAddress("山田太郎", "taro@example.jp")],
            Subject = "Ünïcödé subject — 日本語の件名 with a long tail to force folding of encoded words 🚀",
            Headers = [new("X-Note", "Café au lait")],
            Attachments = [new("résumé été.pdf", Samples.Bytes(500, 2), "application/pdf")],
        },
        "long-lines" => Samples.Simple("start\n" + Samples.LongLine(5000) + "\nmiddle " + Samples.LongLine(1200) + "\nend") with
        {
            HtmlBody = "<p>" + Samples.LongLine(3000) + "</p>",
        },
        "8bit" => Samples.Simple("Ceci est un texte 8 bits : à é è ù ç œ ß ñ ø å, «guillemets», 1 € — fin.\n\u00a0non-breaking.\n") with
        {
            HtmlBody = "<p>Déjà vu — naïve café</p>",
        },
        "rich" => Samples.Rich(),
        "crlf-mix" => Samples.Simple("one\r\ntwo\nthree\rfour\n\n\ntrailing blank lines\n\n\n"),
        "rfc822-attachment" => Samples.Simple() with
        {
            Attachments = [new("fwd.eml", Encoding.UTF8.GetBytes("From: a@example.com\r\nTo: b@example.com\r\nSubject: inner\r\n\r\nInner body ü\r\n"), "message/rfc822")],
        },
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void IndependentVerifierAcceptsSignedMessage(string kind)
    {
        var signed = ComposeAndSign(Spec(kind));
        Assert.StartsWith("DKIM-Signature:", Samples.Ascii(signed));
        Assert.All(signed, b => Assert.True(b < 128, "signed message must be 7-bit"));
        AssertVerifies(signed);
    }

    [Fact]
    public void MessageSurvivesAReparseAndReserialization()
    {
        // What a relay does: parse, then write again. The signature must still hold.
        var signed = ComposeAndSign(Samples.Rich());
        var relayed = WireFormat.ToBytes(Samples.Load(signed));
        AssertVerifies(relayed);
    }

    [Fact]
    public void TamperedBodyFails()
    {
        var signed = Samples.Ascii(ComposeAndSign(Samples.Simple("Pay invoice 100 EUR\n")));
        Assert.Contains("100 EUR", signed);
        AssertFails(Encoding.ASCII.GetBytes(signed.Replace("100 EUR", "900 EUR")));
    }

    [Fact]
    public void TamperedSignedHeaderFails()
    {
        var signed = Samples.Ascii(ComposeAndSign(Samples.Simple()));
        AssertFails(Encoding.ASCII.GetBytes(signed.Replace("Subject: Test message", "Subject: Test massage")));
    }

    [Fact]
    public void AddedSecondFromFailsBecauseFromIsOversigned()
    {
        var signed = Samples.Ascii(ComposeAndSign(Samples.Simple()));
        var body = signed.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var forged = signed.Insert(body + 2, "From: attacker@evil.example\r\n");
        AssertFails(Encoding.ASCII.GetBytes(forged));
    }

    [Fact]
    public void WrongPublicKeyFails()
    {
        AssertFails(ComposeAndSign(Samples.Simple()), Samples.OtherKey.DnsTxtValue);
    }

    [Fact]
    public void SignatureTagsAreAsDocumented()
    {
        var message = Samples.Composer.Compose(Samples.Rich());
        DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime);
        var tags = Tags(message.Headers[0]);

        Assert.Equal(HeaderId.DkimSignature, message.Headers[0].Id);
        Assert.Equal("1", tags["v"]);
        Assert.Equal("rsa-sha256", tags["a"]);
        Assert.Equal("relaxed/relaxed", tags["c"]);
        Assert.Equal(Samples.Domain, tags["d"]);
        Assert.Equal(Samples.Selector, tags["s"]);
        Assert.Equal(Samples.SigningTime.ToUnixTimeSeconds().ToString(), tags["t"]);
        Assert.Equal(
            "from:to:cc:subject:date:message-id:reply-to:mime-version:content-type:list-unsubscribe:list-unsubscribe-post:feedback-id:from",
            tags["h"]);
    }

    /// <summary>
    /// Found by the fuzz harness (tests/Mailroom.Fuzz.Tests, mime-prepare): 49,000 repeated Content-Type fields took
    /// 71 s to sign, since each h= entry is found by a scan of the header list. Only the last ten instances of a
    /// field are signed now, which a verifier checks as usual (RFC 6376 §5.4.2: bottom-up).
    /// </summary>
    [Fact]
    public void RepeatedSignedFieldsAreSignedAtMostTenTimesAndStillVerify()
    {
        var message = Samples.Composer.Compose(Samples.Simple());
        for (var i = 0; i < 300; i++)
            message.Headers.Add("To", $"r{i}@example.org");
        DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime);

        var h = message.Headers[HeaderId.DkimSignature]!;
        var names = System.Text.RegularExpressions.Regex.Match(h, @"h=([^;]*)").Groups[1].Value.Split(':').Select(n => n.Trim()).ToList();
        Assert.Equal(DkimSigning.MaxInstancesPerField, names.Count(n => n.Equals("To", StringComparison.OrdinalIgnoreCase)));
        AssertVerifies(WireFormat.ToBytes(message));
    }

    [Fact]
    public void OnlyPresentHeadersAreSignedPlusOversignedFrom()
    {
        var message = Samples.Composer.Compose(Samples.Simple());
        Assert.Equal(["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "From"], DkimSigning.HeadersToSign(message));
    }

    [Fact]
    public void SignatureTagsAndBodyHashEqualStockMimeKitSigner()
    {
        // Ours canonicalizes the written bytes, MimeKit's signer its parsed message: the same body hash and tags.
        var ours = Samples.Composer.Compose(Samples.Rich());
        var bytes = WireFormat.ToBytes(ours);
        var stockMessage = Samples.Load(bytes);
        var oursMessage = Samples.Load(bytes);

        var signingKey = DkimKeyCache.Shared.Get(Samples.DkimKey);
        DkimSigning.Sign(oursMessage, signingKey, Samples.SigningTime);

        stockMessage.Prepare(EncodingConstraint.SevenBit);
        var stock = new FixedTimeStockSigner(Samples.Key.PrivateKeyPem, Samples.Domain, Samples.Selector, Samples.SigningTime);
        stock.Sign(stockMessage, DkimSigning.HeadersToSign(stockMessage));

        // Every tag but b= is equal (folding aside): same h= list and the same body hash. b= differs only because the
        // signature field's own folding differs (it is hashed too, RFC 6376 §3.7); dkimpy checks ours above and here.
        static string Unsigned(string value) => System.Text.RegularExpressions.Regex.Replace(value, @"\s+", "").Split(";b=")[0];
        Assert.Equal(Unsigned(stockMessage.Headers[0].Value), Unsigned(oursMessage.Headers[0].Value));
        AssertVerifies(WireFormat.ToBytes(oursMessage));
    }

    [Fact]
    public void ConcurrentSigningGivesTheSingleThreadedSignature()
    {
        var bytes = WireFormat.ToBytes(Samples.Composer.Compose(Samples.Rich()));
        var key = DkimKeyCache.Shared.Get(Samples.DkimKey);

        var reference = Samples.Load(bytes);
        DkimSigning.Sign(reference, key, Samples.SigningTime);
        var expected = reference.Headers[0].Value;
        AssertVerifies(WireFormat.ToBytes(reference));

        const int threads = 4, perThread = 40;
        var copies = Enumerable.Range(0, threads * perThread).Select(_ => Samples.Load(bytes)).ToArray();
        var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perThread; i++)
                DkimSigning.Sign(copies[t * perThread + i], key, Samples.SigningTime);
        })).ToArray();
        foreach (var worker in workers)
            worker.Start();
        foreach (var worker in workers)
            worker.Join();

        Assert.All(copies, copy => Assert.Equal(expected, copy.Headers[0].Value));
    }

    [Fact]
    public void MessageWithoutFromIsRefused()
    {
        var message = new MimeMessage { Subject = "x", Body = new TextPart("plain") { Text = "x" } };
        Assert.Throws<ArgumentException>(() => DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime));
    }

    [Fact]
    public void SigningPreparesUnpreparedMessagesFor7bit()
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Ünal", "sender@mail.example.com"));
        message.To.Add(MailboxAddress.Parse("jo@example.org"));
        message.Subject = "8bit body";
        var part = new TextPart("plain");
        part.SetText(Encoding.UTF8, "Grüße " + Samples.LongLine(1500) + "\r\n");
        part.ContentTransferEncoding = ContentEncoding.Default;
        message.Body = part;

        DkimSigning.Sign(message, Samples.DkimKey, Samples.SigningTime);
        var bytes = WireFormat.ToBytes(message);
        Assert.All(bytes, b => Assert.True(b < 128));
        AssertVerifies(bytes);
    }

    static Dictionary<string, string> Tags(Header header)
    {
        var value = string.Concat(header.Value.Where(c => !char.IsWhiteSpace(c)));
        return value.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(tag => tag.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1]);
    }

    /// <summary>MimeKit's own signer (BouncyCastle RSA) with t= fixed, for comparison.</summary>
    internal sealed class FixedTimeStockSigner : DkimSigner
    {
        readonly long timestamp;

        public FixedTimeStockSigner(string privateKeyPem, string domain, string selector, DateTimeOffset time)
            : base(new MemoryStream(Encoding.ASCII.GetBytes(privateKeyPem)), domain, selector, DkimSignatureAlgorithm.RsaSha256)
        {
            timestamp = time.ToUnixTimeSeconds();
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        }

        protected override long GetTimestamp() => timestamp;
    }
}
