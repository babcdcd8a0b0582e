using Mailroom.Mail.Arf;
using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>Hand-written messages (tests/Mailroom.Mail.Tests/TestData) for cases the corpus (tests/corpus) lacks.</summary>
public class SyntheticMessageTests
{
    internal static MimeMessage Load(string name) =>
        MimeMessage.Load(Path.Combine(AppContext.BaseDirectory, "TestData", name), TestContext.Current.CancellationToken);

    [Fact]
    public void Gmail550511IsAHardBounceWithTheOriginalHeaders()
    {
        var report = BounceParser.Parse(Load("gmail-550-5.1.1.eml"));

        BounceAssert.Classified(report, BounceReportKind.DeliveryStatusNotification, BounceType.HardBounce);
        Assert.True(report.IsDeliveryFailure);
        Assert.True(report.ShouldSuppress);
        Assert.Equal("googlemail.com", report.ReportingMta);
        Assert.Equal("pm-bounces+1a2b3c4d@bounces.mailroom.example", report.ReturnedTo);

        var r = BounceAssert.SingleRecipient(report, "no.such.person@gmail.com");
        Assert.Equal("failed", r.Action);
        Assert.Equal("5.1.1", r.Status);
        Assert.Equal(550, r.SmtpCode);
        Assert.Equal("smtp", r.DiagnosticType);
        Assert.StartsWith("gmail-smtp-in.l.google.com", r.RemoteMta);
        Assert.StartsWith("550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking", r.Diagnostic);
        Assert.DoesNotContain("550-5.1.1 double", r.Diagnostic); // continuation prefixes removed
        Assert.True(r.Suppress);

        // text/rfc822-headers: Mailroom finds its own identifiers and the VERP return path.
        Assert.NotNull(report.Original);
        Assert.Equal("20250304101106.4F2A1C0B@mailroom.example", report.Original.MessageId);
        Assert.Equal("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", report.Original.PostmarkMessageId);
        Assert.Equal("Your order #1042 has shipped", report.Original.Subject);
        Assert.Equal("pm-bounces+1a2b3c4d@bounces.mailroom.example", report.Original.ReturnPath);
        Assert.Equal(["no.such.person@gmail.com"], report.Original.To);
        Assert.Equal("orders@shop.example", report.Original.Header("from") is { } from ? MailboxAddress.Parse(from).Address : null);
    }

    /// <summary>
    /// Google Groups refuses a post (the group is gone, or the sender may not post) with a notice written in the
    /// poster's language and no SMTP reply or status; what every language shares is Google's mailer-daemon as the
    /// sender and the Groups help link. A refusal by the group: Blocked, the address is not suppressed.
    /// </summary>
    [Fact]
    public void GoogleGroupsRefusalInAnyLanguageIsBlocked()
    {
        var report = BounceParser.Parse(Load("google-groups-refusal-es.eml"));

        BounceAssert.Classified(report, BounceReportKind.TextNotification, BounceType.Blocked);
        var r = BounceAssert.SingleRecipient(report, "equipo-ventas@googlegroups.com", BounceType.Blocked);
        Assert.False(r.Suppress);
    }

    [Fact]
    public void Office365NdrIsAHardBounce()
    {
        var report = BounceParser.Parse(Load("office365-ndr.eml"));

        BounceAssert.Classified(report, BounceReportKind.DeliveryStatusNotification, BounceType.HardBounce);
        var r = BounceAssert.SingleRecipient(report, "a.ghost@contoso.com");
        Assert.Equal("5.1.10", r.Status);
        Assert.Equal(550, r.SmtpCode);
        Assert.Contains("RESOLVER.ADR.RecipientNotFound", r.Diagnostic);
        Assert.True(r.Suppress);
        Assert.Equal("20250305093010.77AA88BB@mailroom.example", report.Original?.MessageId);
        Assert.Equal("77aa88bb-0000-4000-8000-123456789abc", report.Original?.PostmarkMessageId);
        Assert.Equal("Invitation: quarterly review", report.Original?.Subject);
    }

    [Fact]
    public void Office365NdrWithoutTheReportPartIsReadFromItsHtml()
    {
        // Same NDR, but only the HTML explanation survived (some gateways strip message/delivery-status).
        var full = Load("office365-ndr.eml");
        var html = ((Multipart)((Multipart)full.Body!)[0])[0];
        var stripped = new MimeMessage(full.Headers.Where(h => h.Id != HeaderId.ContentType)) { Body = html };

        var report = BounceParser.Parse(stripped);

        BounceAssert.Classified(report, BounceReportKind.TextNotification, BounceType.HardBounce);
        var r = BounceAssert.SingleRecipient(report, "a.ghost@contoso.com");
        Assert.Equal("5.1.10", r.Status);
        Assert.Equal(550, r.SmtpCode);
    }

    [Theory]
    [InlineData("out-of-office.eml", "dana.okafor@fabrikam.example")]
    [InlineData("vacation-precedence.eml", "lee.ng@tailspin.example")]
    public void OutOfOfficeReplyIsAnAutoResponderAndNeverSuppresses(string file, string who)
    {
        var report = BounceParser.Parse(Load(file));

        BounceAssert.Classified(report, BounceReportKind.AutoReply, BounceType.AutoResponder);
        Assert.False(report.IsDeliveryFailure);
        Assert.False(report.ShouldSuppress);
        var r = BounceAssert.SingleRecipient(report, who);
        Assert.False(r.Suppress);
    }

    [Fact]
    public void OutOfOfficeReplyPointsAtTheOriginalThroughInReplyTo()
    {
        var report = BounceParser.Parse(Load("out-of-office.eml"));
        Assert.Equal("20250306075959.5E6F7A8B@mailroom.example", report.Original?.MessageId);
    }

    [Fact]
    public void ChallengeResponseIsAChallengeVerificationAndNotABounce()
    {
        var report = BounceParser.Parse(Load("challenge-response.eml"));

        BounceAssert.Classified(report, BounceReportKind.ChallengeResponse, BounceType.ChallengeVerification);
        Assert.False(report.IsDeliveryFailure);
        Assert.False(report.ShouldSuppress);
        // The person we mailed (not the Reply-To of the challenge service).
        BounceAssert.SingleRecipient(report, "sam.rivera@tailspin.example");
    }

    [Fact]
    public void AddressChangeNoticeIsRecognised()
    {
        var report = BounceParser.Parse(Load("address-change.eml"));

        BounceAssert.Classified(report, BounceReportKind.AddressChange, BounceType.AddressChange);
        BounceAssert.SingleRecipient(report, "chris.park@oldcorp.example");
        Assert.False(report.ShouldSuppress);
    }

    [Fact]
    public void AmazonSesBounceNotificationIsRead()
    {
        var report = BounceParser.Parse(Load("ses-bounce.eml"));

        BounceAssert.Classified(report, BounceReportKind.AmazonSesNotification, BounceType.HardBounce);
        Assert.True(report.IsDeliveryFailure);
        var r = BounceAssert.SingleRecipient(report, "gone@example.net");
        Assert.Equal("5.1.1", r.Status);
        Assert.Equal(550, r.SmtpCode);
        Assert.Equal("a8-30.smtp-out.amazonses.com", report.ReportingMta);
        Assert.Equal("20250311095958.ABCD@mailroom.example", report.Original?.MessageId);
        Assert.Equal("abcd0000-1111-2222-3333-444455556666", report.Original?.PostmarkMessageId);
        Assert.Equal("Receipt", report.Original?.Subject);
    }

    [Fact]
    public void DelayWarningKeepsItsTemporaryCauseAFullMailboxIsASoftBounce()
    {
        // Not final (Action: delayed), so never suppressing; the cause is stated, and Postmark's SoftBounce is
        // "unable to temporarily deliver message (i.e. mailbox full …)".
        var report = BounceParser.Parse(Load("delay-warning.eml"));

        Assert.Equal(BounceType.SoftBounce, report.Type);
        Assert.True(report.IsDeliveryFailure);
        Assert.False(report.ShouldSuppress);
        var r = Assert.Single(report.Recipients);
        Assert.Equal("delayed", r.Action);
        Assert.Equal("4.2.2", r.Status);
        Assert.Equal(452, r.SmtpCode);
        // The live reply alone (the delivery attempt) is a full mailbox.
        Assert.Equal(BounceType.SoftBounce, SmtpReplyClassifier.Classify(452, "4.2.2", "Mailbox full, try again later"));
    }

    [Fact]
    public void ComplaintNotSpamIsNotAComplaint()
    {
        var message = MimeMessage.Load(new MemoryStream("""
            From: fbl@isp.example
            To: fbl@mailroom.example
            Subject: not spam
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=feedback-report; boundary="b"

            --b
            Content-Type: text/plain

            The user moved this message out of the spam folder.
            --b
            Content-Type: message/feedback-report

            Feedback-Type: not-spam
            User-Agent: ISP-FBL/1.0
            Version: 1
            Original-Rcpt-To: <fan@isp.example>

            --b--
            """u8.ToArray()), TestContext.Current.CancellationToken);

        var complaint = ArfParser.Parse(message);
        Assert.Equal(ComplaintFormat.Arf, complaint.Format);
        Assert.Equal("not-spam", complaint.FeedbackType);
        Assert.False(complaint.IsComplaint);
        Assert.False(complaint.ShouldSuppress);
        Assert.Equal(["fan@isp.example"], complaint.Recipients);
        Assert.Equal(BounceType.Unknown, BounceParser.Parse(message).Type);
    }

    [Fact]
    public void SuccessDsnIsNotADeliveryFailure()
    {
        var message = MimeMessage.Load(new MemoryStream("""
            From: MAILER-DAEMON@mx.mailroom.example (Mail Delivery System)
            To: pm-bounces+00ff00ff@bounces.mailroom.example
            Subject: Successful Mail Delivery Report
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="ok"

            --ok
            Content-Type: text/plain

            Your message was successfully delivered to the destination(s) listed below.

            <happy@example.org>: delivery via mx.example.org[192.0.2.9]:25: 250 2.0.0 Ok: queued as 4F2A1C0B
            --ok
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.mailroom.example

            Final-Recipient: rfc822; happy@example.org
            Action: relayed
            Status: 2.0.0
            Remote-MTA: dns; mx.example.org
            Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4F2A1C0B
            --ok--
            """u8.ToArray()), TestContext.Current.CancellationToken);

        var report = BounceParser.Parse(message);

        BounceAssert.Classified(report, BounceReportKind.DeliveryStatusNotification, BounceType.Unknown);
        Assert.False(report.IsDeliveryFailure);
        Assert.False(report.ShouldSuppress);
        var r = Assert.Single(report.Recipients);
        Assert.Equal("relayed", r.Action);
        Assert.Equal(2, r.StatusClass);
        Assert.Equal(250, r.SmtpCode);
    }

    [Fact]
    public void OrdinaryMailIsNotRecognised()
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("friend@example.org"));
        message.To.Add(MailboxAddress.Parse("pm-bounces@bounces.mailroom.example"));
        message.Subject = "Lunch on Friday?";
        message.Body = new TextPart("plain") { Text = "Are you free for lunch on Friday?" };

        var report = BounceParser.Parse(message);

        BounceAssert.Classified(report, BounceReportKind.None, BounceType.Unknown);
        Assert.Empty(report.Recipients);
        Assert.False(report.IsDeliveryFailure);
        Assert.False(ArfParser.Parse(message).IsComplaint);
    }
}
