using System.Diagnostics;
using System.Text;
using Mailroom.Mail.Arf;
using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Hostile and broken input: the parsers never throw and finish quickly. The big inputs are generated
/// here (deterministically) rather than committed as multi-megabyte .eml files.
/// </summary>
public class HostileInputTests
{
    private static BounceReport ParseBytes(byte[] bytes)
    {
        // Bounded by design (the parser caps the parts and text it reads), not by a timer: tests assert no timing.
        return BounceParser.Parse(new MemoryStream(bytes));
    }

    private static void ParseLoaded(MimeMessage message)
    {
        _ = BounceParser.Parse(message);
        _ = ArfParser.Parse(message);
        // Bounded by design, not by the catch-all: the unguarded parse does not throw either.
        _ = BounceParser.ParseCore(message);
    }

    [Fact]
    public void MultipartsNested1000Deep()
    {
        var sb = new StringBuilder("From: MAILER-DAEMON@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n");
        sb.Append("Content-Type: multipart/report; report-type=delivery-status; boundary=\"b0\"\r\n\r\n");
        for (var i = 0; i < 1000; i++)
            sb.Append($"--b{i}\r\nContent-Type: multipart/mixed; boundary=\"b{i + 1}\"\r\n\r\n");
        sb.Append("--b1000\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; deep@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n");
        for (var i = 1000; i >= 0; i--)
            sb.Append($"--b{i}--\r\n");
        var bytes = Encoding.ASCII.GetBytes(sb.ToString());

        // Either the report is found at the bottom or the depth limit hides it; never another recipient or type.
        var report = ParseBytes(bytes);
        Assert.All(report.Recipients, r => Assert.Equal(("deep@example.net", BounceType.HardBounce), (r.Email, r.Type)));

        // Loaded by the caller with MimeKit's default depth limit, too.
        using var message = MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken);
        ParseLoaded(message);
    }

    [Fact]
    public void MessageRfc822Nested1000Deep()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < 1000; i++)
            sb.Append($"From: MAILER-DAEMON@example.com\r\nSubject: level {i}\r\nContent-Type: message/rfc822\r\n\r\n");
        sb.Append("From: x@example.com\r\nSubject: bottom\r\n\r\nbody\r\n");
        // Wrappers naming no failure are no bounce, however deep.
        var report = ParseBytes(Encoding.ASCII.GetBytes(sb.ToString()));
        Assert.Empty(report.Recipients);
    }

    [Fact]
    public void FiveMegabyteHeaderLine()
    {
        var huge = new string('a', 5 * 1024 * 1024);
        // MimeKit's own loading of a 5 MB header dominates the time; the parsers read at most a bounded prefix.
        foreach (var field in new[] { "Subject", "X-Failed-Recipients", "From" })
        {
            var text = $"From: MAILER-DAEMON@example.com\r\nTo: bounces@example.com\r\n{field}: {huge}\r\nContent-Type: text/plain\r\n\r\nThis message was created automatically by mail delivery software.\r\n\r\n  x@example.net\r\n    550 5.1.1 user unknown\r\n";
            // The huge field is never taken for an address; the failure in the body is still read.
            var report = ParseBytes(Encoding.ASCII.GetBytes(text));
            Assert.All(report.Recipients, r => Assert.Equal("x@example.net", r.Email));
            Assert.All(report.Recipients, r => Assert.True(r.Email.Length < 100));
        }
    }

    [Fact]
    public void FiveMegabyteSingleLineBodies()
    {
        var line = string.Concat(Enumerable.Repeat("user@", 1024 * 1024));
        var text = "From: MAILER-DAEMON@example.com\r\nSubject: failure notice\r\nContent-Type: text/plain\r\n\r\n" + line + "\r\n";
        // 1 M repetitions of "user@" hold no address.
        Assert.Empty(ParseBytes(Encoding.ASCII.GetBytes(text)).Recipients);

        var dsn = "From: MAILER-DAEMON@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; a@example.net\r\nDiagnostic-Code: smtp; 550 " + new string('x', 5 * 1024 * 1024) + "\r\n--b--\r\n";
        var report = ParseBytes(Encoding.ASCII.GetBytes(dsn));
        Assert.Equal("a@example.net", Assert.Single(report.Recipients).Email);
    }

    [Fact]
    public void ManyRecipientsAndAddresses()
    {
        var sb = new StringBuilder("From: MAILER-DAEMON@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n");
        for (var i = 0; i < 20000; i++)
            sb.Append($"<r{i}@example.net>: 550 5.1.1 user unknown\r\n");
        sb.Append("--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n");
        for (var i = 0; i < 20000; i++)
            sb.Append($"Final-Recipient: rfc822; r{i}@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n");
        sb.Append("--b--\r\n");

        var report = ParseBytes(Encoding.ASCII.GetBytes(sb.ToString()));
        Assert.InRange(report.Recipients.Count, 1, BounceAddresses.MaxCandidates);
        Assert.All(report.Recipients, r => Assert.Equal(BounceType.HardBounce, r.Type));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomBytes(int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[64 * 1024 * seed];
        random.NextBytes(bytes);
        // Noise is no bounce: nothing in it may suppress anyone.
        var report = ParseBytes(bytes);
        Assert.DoesNotContain(report.Recipients, r => r.Suppress);

        // Valid headers, random body.
        var withHeaders = Encoding.ASCII.GetBytes("From: MAILER-DAEMON@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n").Concat(bytes).ToArray();
        Assert.DoesNotContain(ParseBytes(withHeaders).Recipients, r => r.Suppress);
    }

    [Fact]
    public void EmptyInputs()
    {
        Assert.Equal(BounceReportKind.None, ParseBytes([]).Kind);
        Assert.Equal(BounceReportKind.None, ParseBytes("\r\n\r\n"u8.ToArray()).Kind);
        using var empty = new MimeMessage();
        ParseLoaded(empty);
        Assert.Equal(BounceType.Unknown, BounceParser.Parse(empty).Type);
        Assert.Equal(ComplaintFormat.None, ArfParser.Parse(empty).Format);
    }

    [Fact]
    public void MalformedSampleFile()
    {
        // Its only failed recipient is empty and its status 9.9.9 is no status (RFC 3463 §3.1): nothing to suppress.
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "malformed.eml"));
        Assert.DoesNotContain(ParseBytes(bytes).Recipients, r => r.Suppress || string.IsNullOrEmpty(r.Email));
        using var message = MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken);
        ParseLoaded(message);
    }

    [Fact]
    public void ClassifierAcceptsAnything()
    {
        Assert.Equal(BounceType.Unknown, SmtpReplyClassifier.Classify(0, null, (string?)null));
        Assert.Equal(BounceType.Unknown, SmtpReplyClassifier.Classify(-1, "garbage", ""));
        Assert.Equal(BounceType.Unknown, SmtpReplyClassifier.Classify(999, "9.9.9", "\0\0\0"));
        _ = SmtpReplyClassifier.Classify(550, null, new string('a', 5 * 1024 * 1024));
        _ = SmtpReplyClassifier.Classify(550, null, string.Concat(Enumerable.Repeat("user ", 1024 * 1024)));
    }
}
