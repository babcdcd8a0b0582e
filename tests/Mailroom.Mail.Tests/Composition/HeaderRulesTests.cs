using System.Text;
using Mailroom.Mail.Composition;

namespace Mailroom.Mail.Tests.Composition;

public class HeaderRulesTests
{
    static HeaderFault? Check(string headers, bool smtpUtf8 = false) =>
        HeaderRules.CheckSubmitted(Encoding.UTF8.GetBytes("From: a@example.com\r\n" + headers + "\r\nbody\r\n"), smtpUtf8);

    [Theory]
    [InlineData("Sender", HeaderUse.Refuse, HeaderUse.Refuse)]
    [InlineData("return-path", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("DKIM-Signature", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("ARC-Seal", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Authentication-Results", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Received-SPF", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Delivered-To", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Bcc", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Resent-Bcc", HeaderUse.Refuse, HeaderUse.Strip)]
    [InlineData("Resent-From", HeaderUse.Refuse, HeaderUse.Keep)]
    [InlineData("Received", HeaderUse.Refuse, HeaderUse.Keep)]
    [InlineData("From", HeaderUse.Refuse, HeaderUse.Keep)]
    [InlineData("Subject", HeaderUse.Refuse, HeaderUse.Keep)]
    [InlineData("Content-Type", HeaderUse.Refuse, HeaderUse.Keep)]
    [InlineData("X-PM-Tag", HeaderUse.Refuse, HeaderUse.Read)]
    [InlineData("X-Campaign", HeaderUse.Keep, HeaderUse.Keep)]
    [InlineData("List-Unsubscribe", HeaderUse.Keep, HeaderUse.Keep)]
    public void EachPathHasItsColumnInOneTable(string name, HeaderUse api, HeaderUse smtp)
    {
        Assert.Equal(api, HeaderRules.ApiUse(name));
        Assert.Equal(smtp, HeaderRules.SmtpUse(name));
        Assert.Equal(api != HeaderUse.Keep, MessageComposer.IsReservedHeader(name));
    }

    [Fact]
    public void RefusalsNameTheFieldAndAreAsciiForSmtpReplies()
    {
        foreach (var rule in HeaderRules.Table)
        {
            var text = HeaderRules.Refusal(rule.IsPrefix ? rule.Name + "X" : rule.Name);
            Assert.True(Ascii.IsValid(text), text);
            Assert.Contains(rule.Name, text);
        }
        Assert.True(Ascii.IsValid(HeaderRules.TooLong("X-A")));
        Assert.True(Ascii.IsValid(HeaderRules.InvalidName("X A")));
    }

    [Fact]
    public void ACleanHeaderSectionPassesAndTheBodyIsNotLookedAt()
    {
        Assert.Null(Check("Subject: Hi\r\nX-Folded: one\r\n\ttwo\r\n"));
        // 8-bit and long lines in the body are the body's business (Preparation re-encodes it).
        Assert.Null(HeaderRules.CheckSubmitted(Encoding.UTF8.GetBytes("Subject: Hi\r\n\r\nGrüße\0 " + new string('x', 5000) + "\n"), smtpUtf8: false));
        Assert.Null(HeaderRules.CheckSubmitted("Subject: no body"u8, smtpUtf8: false));
    }

    [Theory]
    [InlineData("X-A: a\0b\r\n", "The 'X-A' value contains the control character U+0000")]
    [InlineData("X-A: a\u0007b\r\n", "The 'X-A' value contains the control character U+0007")]
    [InlineData("X-A: a\rb\r\n", "The 'X-A' value contains a carriage return (CR)")]
    [InlineData("X-A: a\nb: c\r\n", "The 'X-A' value contains a line feed (LF)")]
    [InlineData("X-A: a\r\n\tb\0\r\n", "The 'X-A' value contains the control character U+0000")]
    [InlineData("X\0A: b\r\n", "The header name contains the control character U+0000")]
    [InlineData("X A: b\r\n", "'X A' is not a valid header name")]
    [InlineData("no colon at all\r\n", "'no colon at all' is not a valid header name")]
    public void ControlCharactersAndMalformedLinesAreRefusedWithTheApiWords(string headers, string words)
    {
        var fault = Check(headers);
        Assert.NotNull(fault);
        Assert.Equal(HeaderFaultKind.Malformed, fault.Kind);
        Assert.StartsWith(words, fault.Message);
    }

    [Fact]
    public void LinesAreAtMost998Octets()
    {
        Assert.Null(Check("X-A: " + new string('a', 998 - 5) + "\r\n"));
        var fault = Check("X-A: " + new string('a', 999 - 5) + "\r\n");
        Assert.Equal(HeaderFaultKind.TooLong, fault?.Kind);
        Assert.Equal(HeaderRules.TooLong("X-A"), fault?.Message);
        // A continuation line counts on its own.
        Assert.Equal(HeaderFaultKind.TooLong, Check("X-A: a\r\n " + new string('a', 998) + "\r\n")?.Kind);
    }

    [Fact]
    public void EightBitHeaderTextNeedsSmtputf8AndThenUtf8()
    {
        Assert.Equal(HeaderFaultKind.EightBit, Check("Subject: Grüße\r\n")?.Kind);
        Assert.Contains("'Subject'", Check("Subject: Grüße\r\n")!.Message);
        Assert.Null(Check("Subject: Grüße\r\n", smtpUtf8: true));
        var latin1 = "From: a@example.com\r\nSubject: Gr"u8.ToArray().Concat(new byte[] { 0xFC }).Concat("\r\n\r\nbody\r\n"u8.ToArray()).ToArray();
        Assert.Equal(HeaderFaultKind.EightBit, HeaderRules.CheckSubmitted(latin1, smtpUtf8: false)?.Kind);
        Assert.Equal(HeaderFaultKind.NotUtf8, HeaderRules.CheckSubmitted(latin1, smtpUtf8: true)?.Kind);
        // Field names stay ASCII even with SMTPUTF8 (RFC 6532 §3.2).
        Assert.Equal(HeaderFaultKind.Malformed, Check("X-Grüße: a\r\n", smtpUtf8: true)?.Kind);
    }
}
