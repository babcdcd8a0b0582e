using System.Text;
using Mailroom.Mail.DmarcReports;
using MimeKit;

namespace Mailroom.Mail.Tests.DmarcReports;

public class FailureReportReaderTests
{
    const string Original = "From: Jo Smith <jo.smith@example.com>\r\nTo: victim@receiver.example\r\nSubject: Secret plans\r\n" +
                            "DKIM-Signature: v=1; d=example.com; s=s1; b=abc\r\n\r\nPrivate body text.\r\n";

    static MimeMessage Afrf(string fields, bool headersOnly = false, bool netEase = false)
    {
        var m = new MimeMessage { Subject = "FW: Secret plans" };
        m.From.Add(MailboxAddress.Parse("dmarc-ruf@receiver.example"));
        var container = netEase ? new Multipart("mixed") : new MultipartReport("feedback-report");
        container.Add(new TextPart("plain") { Text = "This is an authentication failure report." });
        container.Add(netEase
            ? new MimePart("application", "octet-stream") { Content = new MimeContent(new MemoryStream(Encoding.ASCII.GetBytes(fields))), ContentTransferEncoding = ContentEncoding.Base64 }
            : new MimePart("message", "feedback-report") { Content = new MimeContent(new MemoryStream(Encoding.ASCII.GetBytes(fields))) });
        container.Add(headersOnly
            ? new MimePart("text", "rfc822-headers") { Content = new MimeContent(new MemoryStream(Encoding.ASCII.GetBytes(Original.Split("\r\n\r\n")[0] + "\r\n"))) }
            : new MessagePart { Message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Original))) });
        m.Body = container;
        return m;
    }

    // RFC 6591 §4 example fields, with the quirks seen in real reports.
    const string Fields = "Feedback-Type: auth-failure\r\nUser-Agent: Receiver/1.0\r\nVersion: 1\r\n" +
                          "Original-Mail-From: <jo.smith@example.com>\r\nArrival-Date: Fri, 04 Dec 2026 10:00:00 +0000\r\n" +
                          "Source-IP: 192.0.2.1 (mail.example.net)\r\nReported-Domain: Example.com\r\nAuth-Failure: dmarc\r\n" +
                          "\r\nDKIM-Domain: example.com\r\nDKIM-Domain: esp.example\r\nDKIM-Selector: s1\r\nIdentity-Alignment: dkim\r\n" +
                          "Delivery-Result: smg-policy-action\r\n";

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ReadsAuthFailureFieldsWithPersonalDataMinimised(bool headersOnly, bool netEase)
    {
        var report = FailureReportReader.Read(Afrf(Fields, headersOnly, netEase));

        Assert.NotNull(report);
        Assert.True(report.IsAuthFailure);
        Assert.Equal(("dmarc", "example.com", "192.0.2.1"), (report.AuthFailure, report.ReportedDomain, report.SourceIp));
        Assert.Equal(["example.com", "esp.example"], report.DkimDomains); // a blank line inside the block does not end it
        Assert.Equal(("s1", "dkim", "smg-policy-action"), (report.DkimSelector, report.IdentityAlignment, report.DeliveryResult));
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero), report.ArrivalDate);
        Assert.Equal(("example.com", "example.com"), (report.EnvelopeFromDomain, report.HeaderFromDomain));
        // No address, subject or body survives into the model.
        var all = System.Text.Json.JsonSerializer.Serialize(report);
        Assert.DoesNotContain("jo.smith", all);
        Assert.DoesNotContain("Secret", all);
        Assert.DoesNotContain("victim", all);
    }

    [Fact]
    public void ClassifiesAbuseReportsAndIgnoresMailWithoutOne()
    {
        var abuse = FailureReportReader.Read(Afrf("Feedback-Type: abuse\r\nUser-Agent: X\r\nVersion: 1\r\nOriginal-Mail-From: <>\r\n"));
        Assert.NotNull(abuse);
        Assert.False(abuse.IsAuthFailure);
        Assert.Null(abuse.EnvelopeFromDomain); // empty Original-Mail-From
        Assert.Null(FailureReportReader.Read(new MimeMessage { Body = new TextPart("plain") { Text = "hello" } }));
    }
}
