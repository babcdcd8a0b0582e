using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Issue 10's parser failures, each on a small hand-written message: a DSN forwarded inside message/rfc822,
/// the notice's own contact address, a failed recipient that is also the bounce's To:, a challenge that
/// "requires confirmation".
/// </summary>
public class BounceParserEvidenceTests
{
    private static BounceReport Parse(string text) =>
        BounceParser.Parse(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\r\n"))));

    /// <summary>A plain-text notice: From, To, Subject, then <paramref name="fields"/>, then its MIME fields and
    /// <paramref name="body"/>.</summary>
    private static BounceReport ParseNotice(string from, string to, string subject, string body, params string[] fields) =>
        Parse($"From: {from}\nTo: {to}\nSubject: {subject}\n{string.Concat(fields.Select(f => f + "\n"))}MIME-Version: 1.0\nContent-Type: text/plain\n\n{body}");

    private const string Dsn = """
        From: MAILER-DAEMON@mx.example.net
        To: bounces+abc@mailroom.example
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="inner"

        --inner
        Content-Type: text/plain

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <gone@example.org>: host mx.example.org[192.0.2.7] said: 550 5.1.1
            <gone@example.org>: Recipient address rejected: User unknown (in reply to RCPT TO command)

        --inner
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.net

        Final-Recipient: rfc822; gone@example.org
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown

        --inner--
        """;

    [Fact]
    public void DsnForwardedInsideMessageRfc822IsOpened()
    {
        var forwarded = $"""
            From: Helpdesk <helpdesk@mailroom.example>
            To: bounces+abc@mailroom.example
            Subject: Fwd: Undelivered Mail Returned to Sender
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="outer"

            --outer
            Content-Type: text/plain

            Forwarding the bounce below.

            --outer
            Content-Type: message/rfc822

            {Dsn}

            --outer--
            """;
        var report = Parse(forwarded);

        BounceAssert.Classified(report, BounceReportKind.DeliveryStatusNotification, BounceType.HardBounce);
        var r = BounceAssert.SingleRecipient(report, "gone@example.org");
        Assert.Equal("5.1.1", r.Status);
        Assert.True(r.Suppress);
    }

    [Fact]
    public void ContactAddressOfferedByTheNoticeIsNeverTheFailedRecipient()
    {
        var report = ParseNotice("Mail Delivery System <MAILER-DAEMON@relay.example.net>", "bounces+abc@mailroom.example", "Undelivered Mail Returned to Sender", """
            This is the mail system at host relay.example.net.

            I'm sorry to have to inform you that your message could not
            be delivered to one or more recipients.

            For further assistance, please contact <helpdesk@relay.example.net>.
            If you do so, please include this problem report.

            <nobody@example.org>: host mx.example.org[192.0.2.7] said: 550 5.1.1
                <nobody@example.org>: Recipient address rejected: User unknown in local recipient table
            """);

        BounceAssert.SingleRecipient(report, "nobody@example.org", BounceType.HardBounce);
    }

    [Fact]
    public void FailedRecipientEqualToTheBounceToIsKept()
    {
        // A local delivery failure reported to the mailbox itself (the bounce's To: is the failed recipient).
        var report = ParseNotice("Mail Delivery System <MAILER-DAEMON@mail.example.org>", "user@example.org", "Mail delivery failed: returning message to sender", """
            This message was created automatically by mail delivery software.

            A message that you sent could not be delivered to one or more of its
            recipients. This is a permanent error. The following address(es) failed:

              user@example.org
                mailbox is full: retry timeout exceeded
            """);

        BounceAssert.SingleRecipient(report, "user@example.org", BounceType.SoftBounce);
    }

    [Fact]
    public void ChallengeThatRequiresConfirmationIsNotAHardBounce()
    {
        var report = ParseNotice("Mail Delivery System <postmaster@protected.example>", "bounces+abc@mailroom.example", "Undeliverable: message held pending confirmation", """
            Your message to reader@protected.example could not be delivered yet:
            this server requires confirmation of the sender. Please reply to this
            message to confirm that you are a real person, and it will be delivered.

            550 Sender not yet confirmed
            """);

        Assert.Equal(BounceType.ChallengeVerification, report.Type);
        Assert.False(report.IsDeliveryFailure);
        Assert.False(report.ShouldSuppress);
    }

    [Fact]
    public void RecipientGroupsWrittenWithoutBlankLinesAreEachRead()
    {
        // RFC 3464 §2.1 separates per-recipient groups with blank lines; some relays write them back to back.
        var report = Parse("""
            From: MAILER-DAEMON@relay.example.net
            To: bounces+abc@mailroom.example
            Subject: Undelivered Mail
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="b"

            --b
            Content-Type: text/plain

            Delivery failed.

            --b
            Content-Type: message/delivery-status

            Reporting-MTA: dns; relay.example.net

            Original-Recipient: rfc822; full@example.org
            Final-Recipient: rfc822; full@example.org
            Action: failed
            Status: 5.2.2
            Diagnostic-Code: smtp; 552 5.2.2 Mailbox full
            Original-Recipient: rfc822; gone@example.org
            Final-Recipient: rfc822; gone@example.org
            Action: failed
            Status: 5.1.1
            Diagnostic-Code: smtp; 550 5.1.1 No such user

            --b--
            """);

        Assert.Equal(2, report.Recipients.Count);
        Assert.Equal(BounceType.SoftBounce, report.Recipients.Single(r => r.Email == "full@example.org").Type);
        Assert.Equal(BounceType.HardBounce, report.Recipients.Single(r => r.Email == "gone@example.org").Type);
    }

    [Fact]
    public void AliasNamedByExpandedFromIsNotASecondRecipient()
    {
        var report = ParseNotice("MAILER-DAEMON@relay.example.net (Mail Delivery System)", "bounces+abc@mailroom.example", "Undelivered Mail Returned to Sender", """
            This is the mail system at host relay.example.net.

            <target@example.org> (expanded from
                <alias@example.net>): host mx.example.org[192.0.2.8] said: 550 5.1.1
                <target@example.org>: Recipient address rejected: User unknown
            """);

        BounceAssert.SingleRecipient(report, "target@example.org", BounceType.HardBounce);
    }

    [Fact]
    public void SenderRefusedAfterMailFromIsNotABadRecipient()
    {
        var report = ParseNotice("Mail Delivery System <Mailer-Daemon@relay.example.net>", "bounces+abc@mailroom.example", "Mail delivery failed: returning message to sender", """
            This message was created automatically by mail delivery software.

            A message that you sent could not be delivered to one or more of its
            recipients. This is a permanent error. The following address(es) failed:

              reader@example.org
                host mx.example.org [192.0.2.4]
                SMTP error from remote mail server after MAIL FROM:<writer@sender.example> SIZE=1500:
                553 5.1.0 sender.example does not exist
            """, "X-Failed-Recipients: reader@example.org");

        var r = Assert.Single(report.Recipients);
        Assert.Equal(BounceType.Blocked, r.Type);
        Assert.False(r.Suppress);
    }

    [Fact]
    public void NoticeFromPostMasterQuotingTheRfc5321ReplyIsABounce()
    {
        // No bounce-like subject; the sender is a daemon spelled "post_master" and the body quotes RFC 5321's 550 text.
        var report = ParseNotice("post_master@sms.example.net", "writer@sender.example", "Re: hello", """
            Error: Invalid user address

            Error message below:
            550 - Requested action not taken: no such user here

            Message details:
              RCPT TO: absent@sms.example.net
            """);

        Assert.True(report.IsDeliveryFailure);
        BounceAssert.SingleRecipient(report, "absent@sms.example.net", BounceType.HardBounce);
    }

    [Fact]
    public void AddressOnAFoldedReceivedLineOfAQuotedHeaderIsNotARecipient()
    {
        // The copy of the original's header follows a dashed rule, not a blank line; its Received field is folded
        // (RFC 5322 §2.2.3) so "(envelope-from" and the sender's address stand on different lines.
        var report = ParseNotice("Mail Delivery System <MAILER-DAEMON@relay.example.net>", "writer@sender.example", "Mail delivery failed: returning message to sender", """
            This message was created automatically by mail delivery software.

            A message that you sent could not be delivered to one or more of its
            recipients. This is a permanent error. The following address failed:

              <absent@shop.example>: 550 unknown user

            Included is a copy of the message header:
            -----------------------------------------
            Received: from unknown [192.0.2.12] (EHLO out.sender.example)
                by in.shop.example with ESMTP id 0000001 (envelope-from
                <writer-list@out.sender.example>);
                Thu, 29 Apr 2021 10:00:00 +0000
            From: writer@sender.example
            To: absent@shop.example
            Subject: Hello
            """);

        BounceAssert.SingleRecipient(report, "absent@shop.example", BounceType.HardBounce);
        Assert.Equal("absent@shop.example", Assert.Single(report.Original!.To));
    }

    [Fact]
    public void FoldedContinuationOfAQuotedReceivedFieldIsNotARecipientEvenWithoutASplit()
    {
        // No marker and no blank line before the quoted fields: the continuation line still belongs to Received.
        var report = ParseNotice("MAILER-DAEMON@relay.example.net", "writer@sender.example", "Undeliverable: Hello", """
            Your message could not be delivered.
              <absent@shop.example>: 550 No such user
            Received: from out.sender.example by relay.example.net with ESMTP
                (envelope-from
                <writer-list@out.sender.example>); Thu, 29 Apr 2021 10:00:00 +0000
            """);

        BounceAssert.SingleRecipient(report, "absent@shop.example");
    }

    [Fact]
    public void SendmailWarningThatItCouldNotSendForHoursIsADelay()
    {
        // Sendmail's delay warning subject ("Warning: could not send message for past 4 hours") and its
        // "had delivery errors" list; no RFC 3464 part.
        var report = ParseNotice("Mail Delivery Subsystem <MAILER-DAEMON@relay.example.net>", "writer@sender.example", "Warning: could not send message for past 4 hours", """
            The original message was received at Mon, 3 May 2021 09:00:00 +0000
            from writer@sender.example

               ----- The following addresses had delivery errors -----
            slow@far.example  [Deferred: Connection timed out with mx.far.example.]
            """);

        Assert.True(report.IsDeliveryFailure);
        var r = BounceAssert.SingleRecipient(report, "slow@far.example");
        Assert.Equal("delayed", r.Action);
        Assert.Equal(BounceType.Transient, r.Type);
        Assert.False(r.Suppress);
    }

    [Fact]
    public void NoticeThatOnlyAsksToCheckTheAddressIsAHardBounce()
    {
        var report = ParseNotice("postmaster@gateway.example.jp", "writer@sender.example", "Mail could not be delivered", """
            ***** Message from the mail gateway *****
            Unable to deliver message to <former@example.jp>. Please check whether the address is correct.
            """);

        BounceAssert.SingleRecipient(report, "former@example.jp", BounceType.HardBounce);
    }

    [Fact]
    public void MailingListRefusingANonMembersPostIsBlockedAndNamesTheList()
    {
        // A list manager (RFC 2369 List-* fields, answering from its -owner address) refuses a post from a non-member.
        var report = ParseNotice("team-owner@lists.example.org", "writer@sender.example", "Your message to team was rejected", """
            Your message to team@lists.example.org could not be posted:
            only list members may post, and you are not a member of this list.
            To subscribe, write to team-request@lists.example.org.
            """, "List-Id: <team.lists.example.org>", "List-Post: <mailto:team@lists.example.org>");

        BounceAssert.Classified(report, BounceReportKind.TextNotification, BounceType.Blocked);
        var r = BounceAssert.SingleRecipient(report, "team@lists.example.org");
        Assert.False(r.Suppress);
    }

    [Fact]
    public void OrdinaryListPostMentioningMembersIsNotARefusal()
    {
        // A list message from a member (not the list's administrative address) is not a notice.
        var report = ParseNotice("alice@member.example", "team@lists.example.org", "Members only event", """
            The dinner is members only; if you are not a member yet, join first.
            """, "List-Id: <team.lists.example.org>");

        Assert.False(report.IsDeliveryFailure);
        Assert.NotEqual(BounceType.Blocked, report.Type);
    }
}
