using System.Text;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;

namespace Mailroom.Mail.Tests.Dkim;

/// <summary>The span-based signer over wire bytes (<see cref="DkimWireSigner"/>), checked against dkimpy on inputs that
/// exercise each relaxed canonicalization rule (RFC 6376 §3.4.2, §3.4.4).</summary>
public class DkimWireSignerTests
{
    static string DnsName => DkimSelector.DnsName(Samples.Selector, Samples.Domain);

    static DkimSigningKey Key => DkimKeyCache.Shared.Get(Samples.DkimKey);

    static void AssertVerifies(byte[] signed)
    {
        var result = PythonDkimVerifier.Verify(signed, Samples.Key.DnsTxtValue, DnsName);
        Assert.True(result.Passed, $"dkimpy: {result.Verdict}\n{result.Log}\n--- message ---\n{Samples.Ascii(signed)}");
    }

    static byte[] Wire(string headers, string body) => Encoding.ASCII.GetBytes(headers + "\r\n" + body);

    const string Headers =
        "From: Sender <sender@mail.example.com>\r\nTo: jo@example.org\r\nSubject: plain\r\nDate: Wed, 01 May 2024 09:30:00 +0000\r\n" +
        "Message-ID: <1@mail.example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n";

    [Theory]
    [InlineData("clean", "line one\r\nline two\r\n")]
    [InlineData("inner-whitespace", "a  b\t\tc \t d\r\n\tindented\r\n")]
    [InlineData("trailing-whitespace", "end spaces   \r\nend tab\t\r\n \t \r\nlast\r\n")]
    [InlineData("trailing-empty-lines", "text\r\n\r\n\r\n \r\n\r\n")]
    [InlineData("inner-empty-lines", "a\r\n\r\n\r\nb\r\n")]
    [InlineData("no-final-crlf", "first\r\nno newline at the end")]
    // (No bare LF: the wire form is written through MimeKit's CRLF filter, which never leaves one.)
    [InlineData("only-empty-lines", "\r\n\r\n\r\n")]
    [InlineData("empty", "")]
    [InlineData("dot-lines", ".\r\n..leading dots\r\n.\r\n")]
    public void SignedBodyVerifies(string kind, string body)
    {
        Assert.NotEmpty(kind);
        AssertVerifies(DkimWireSigner.Sign(Wire(Headers, body), Key, Samples.SigningTime));
    }

    [Fact]
    public void UnusualHeaderSpacingAndFoldingVerify()
    {
        const string headers =
            "From:sender@mail.example.com\r\nTo:  jo@example.org ,\r\n\t  al@example.org \t\r\nSubject:\ta  folded\r\n  subject\t \r\n" +
            "X-Not-Signed: whatever\r\nCC: cc@example.org\r\nContent-Type: text/plain\r\n";
        AssertVerifies(DkimWireSigner.Sign(Wire(headers, "body\r\n"), Key, Samples.SigningTime));
    }

    [Fact]
    public void RepeatedFieldsAreSignedBottomUpAndStillVerify()
    {
        var headers = new StringBuilder(Headers);
        for (var i = 0; i < 40; i++)
            headers.Append("To: r").Append(i).Append("@example.org\r\n").Append("Content-Type: text/plain\r\n");
        var signed = DkimWireSigner.Sign(Wire(headers.ToString(), "x\r\n"), Key, Samples.SigningTime);
        AssertVerifies(signed);
        var text = Encoding.ASCII.GetString(signed);
        Assert.All(text.Split("\r\n"), line => Assert.True(line.Length <= 78, line));
    }

    [Fact]
    public void MessageWithoutFromIsRefused()
    {
        var wire = Wire("To: jo@example.org\r\nSubject: x\r\n", "x\r\n");
        Assert.Throws<ArgumentException>(() => DkimWireSigner.Sign(wire, Key, Samples.SigningTime));
    }

    [Fact]
    public void SignToWireWritesWhatSigningTheMessageWrites()
    {
        // One composition (its multipart boundaries are random), read twice as Preparation reads a stored message.
        var bytes = WireFormat.ToBytes(Samples.Composer.Compose(Samples.Rich()));
        var signedMessage = Samples.Load(bytes);
        DkimSigning.Sign(signedMessage, Key, Samples.SigningTime);
        using var written = new MemoryStream();
        signedMessage.WriteTo(new MimeKit.FormatOptions { NewLineFormat = MimeKit.NewLineFormat.Dos }, written); // as Preparation stores
        var viaMessage = written.ToArray();

        var viaWire = DkimSigning.SignToWire(Samples.Load(bytes), Key, Samples.SigningTime);

        Assert.Equal(Samples.Ascii(viaMessage), Samples.Ascii(viaWire));
        AssertVerifies(viaWire);
    }
}
