using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>Live SMTP replies as big providers and common MTAs send them.</summary>
public class SmtpReplyClassifierTests
{
    public static TheoryData<int, string?, string, BounceType> Replies => new()
    {
        // Unknown or disabled mailboxes.
        { 550, "5.1.1", "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.", BounceType.HardBounce },
        { 550, null, "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in virtual mailbox table", BounceType.HardBounce },
        { 550, null, "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table", BounceType.HardBounce },
        { 550, null, "550 Requested action not taken: mailbox unavailable", BounceType.HardBounce },
        { 550, null, "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)", BounceType.HardBounce },
        { 550, null, "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient nobody@contoso.com not found by SMTP address lookup", BounceType.HardBounce },
        { 550, null, "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]", BounceType.HardBounce },
        { 554, null, "554 delivery error: dd This user doesn't have a yahoo.com account (nobody@yahoo.com) [0] - mta1234.mail.ne1.yahoo.com", BounceType.HardBounce },
        { 550, null, "550 5.2.1 The email account that you tried to reach is disabled.", BounceType.HardBounce },
        { 551, null, "551 User not local; please try <someone@example.org>", BounceType.HardBounce },
        { 550, null, "550 Unrouteable address", BounceType.HardBounce },
        { 550, "5.1.1", "", BounceType.HardBounce },
        // No cause stated, but the notice asks to check the address: the address failed.
        { 0, null, "Could not deliver your message to <someone@example.org>. Please check whether the address is correct.", BounceType.HardBounce },
        { 0, null, "Delivery has failed. Check the recipient's email address for typos.", BounceType.HardBounce },
        // A stated cause outranks the advice.
        { 0, null, "Host unknown: example.invalid. Please check if the address is correct.", BounceType.DnsError },
        { 550, null, "", BounceType.HardBounce },

        // Full mailboxes and size limits.
        { 552, "5.2.2", "552-5.2.2 The email account that you tried to reach is over quota.", BounceType.SoftBounce },
        { 452, "4.2.2", "452-4.2.2 The email account that you tried to reach is over quota.", BounceType.SoftBounce },
        { 550, null, "550 5.2.2 <someone@example.jp>... Mailbox Full", BounceType.SoftBounce },
        { 552, null, "552 5.3.4 Message size exceeds fixed limit", BounceType.SoftBounce },
        { 552, null, "552 Requested mail action aborted: exceeded storage allocation", BounceType.SoftBounce },
        { 452, null, "452 4.3.1 Insufficient system storage", BounceType.SoftBounce },

        // Temporary failures.
        { 421, null, "421 4.7.0 Try again later, closing connection. (EHLO) gsmtp", BounceType.Transient },
        { 450, null, "450 4.7.1 <someone@example.com>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html", BounceType.Transient },
        { 451, null, "451 4.3.0 Temporary local problem - please try later", BounceType.Transient },
        { 421, null, "421 Service not available, closing transmission channel", BounceType.Transient },
        { 0, "4.4.1", "connect to mx.example.com[192.0.2.1]:25: Connection timed out", BounceType.Transient },
        { 450, null, "450 4.1.1 <someone@example.com>: Recipient address rejected: User unknown in local recipient table", BounceType.Transient },
        { 451, null, "", BounceType.Transient },

        // Blocks aimed at the sender: IP lists, reputation, PTR, relaying, rate limits, policy.
        { 554, null, "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1", BounceType.Blocked },
        { 550, null, "550-5.7.1 [192.0.2.1] Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address.", BounceType.Blocked },
        { 550, null, "550 5.7.606 Access denied, banned sending IP [192.0.2.1]. To request removal from this list please visit https://sender.office.com/", BounceType.Blocked },
        { 550, null, "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", BounceType.Blocked },
        { 554, null, "554 5.7.1 <someone@example.org>: Relay access denied", BounceType.Blocked },
        { 550, null, "550-5.7.25 [192.0.2.1] The IP address sending this message does not have a PTR record setup", BounceType.Blocked },
        { 421, null, "421-4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited.", BounceType.Blocked },
        { 451, null, "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.", BounceType.Blocked },
        { 554, null, "554 5.7.9 Message not accepted for policy reasons. See https://senders.yahooinc.com/error-codes", BounceType.Blocked },
        { 553, null, "553 5.7.1 <me@example.com>: Sender address rejected: not owned by user someone@example.com", BounceType.Blocked },
        { 550, null, "550-5.7.1 This message is not RFC 5322 compliant. There are multiple From headers.", BounceType.Blocked },
        { 550, "5.7.1", "", BounceType.Blocked },
        // Exim's default text for an ACL "deny" without a message (the sender or message was refused by local policy).
        { 550, null, "550 Administrative prohibition", BounceType.Blocked },
        // Outlook.com's hourly / daily sending limits (a rate limit on the sender).
        { 421, null, "421 RP-001 Unfortunately, some messages from [192.0.2.1] weren't sent. Please try again. We have limits for how many messages can be sent per hour and per day.", BounceType.Blocked },
        // The sender's own "send as" identity is misconfigured (the sending account, not the recipient).
        { 550, null, "550 Message not delivered: the settings for the 'Send mail as' address you used are out of date.", BounceType.Blocked },

        // Content judged spam, or infected.
        { 550, null, "550 5.7.1 Message rejected as spam by Content Filtering.", BounceType.SpamNotification },
        { 554, null, "554 5.7.1 The message from (<me@example.com>) with the subject of (Hello) matches a profile the Internet community may consider spam.", BounceType.SpamNotification },
        { 554, "5.7.1", "554 5.7.1 Message content rejected, UBE, id=12345-01", BounceType.SpamNotification },
        { 550, null, "550 5.7.1 Message rejected: virus found (Eicar-Test-Signature)", BounceType.VirusNotification },
        { 550, null, "550-REJECTED - Blacklisted URL in message. See http://lookup.uribl.com", BounceType.SpamNotification },

        // SPF / DKIM / DMARC (RFC 7372).
        { 550, "5.7.26", "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.", BounceType.DMARCPolicy },
        { 550, null, "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC verification and has a DMARC policy of reject.", BounceType.DMARCPolicy },
        { 550, null, "550 5.7.23 The message was rejected because of Sender Policy Framework violation", BounceType.DMARCPolicy },
        { 550, "5.7.26", "", BounceType.DMARCPolicy },

        // Recipient domain problems.
        { 550, "5.1.2", "550 5.1.2 <someone@example.invalid>... Host unknown (Name server: example.invalid: host not found)", BounceType.DnsError },
        { 0, null, "Host or domain name not found. Name service error for name=example.invalid type=A: Host not found", BounceType.DnsError },
        { 554, "5.4.4", "554 5.4.4 [internal] Domain Lookup Failed", BounceType.DnsError },
        { 556, null, "556 5.1.10 Recipient address has null MX", BounceType.DnsError },
        // Postfix: the recipient domain's MX points back at the sending host (a DNS misconfiguration, RFC 3463 X.4.6).
        { 554, "5.4.6", "mail for example.org loops back to myself", BounceType.DnsError },

        // Syntax, challenge, success, nothing to go on.
        { 553, null, "553 5.1.3 <bad@@example.com>... bad address syntax", BounceType.BadEmailAddress },
        { 553, null, "", BounceType.BadEmailAddress },
        { 0, null, "X-Boxbe-Notice; Sender not pre-approved. Follow instructions in above notice", BounceType.ChallengeVerification },
        { 250, "2.0.0", "250 2.0.0 OK 1741170000 a1b2c3d4e5f6-gsmtp", BounceType.Unknown },
        { 554, null, "554 Transaction failed", BounceType.Unknown },
        { 500, null, "500 5.5.1 Unrecognized command", BounceType.Unknown },
        { 0, null, "", BounceType.Unknown },
    };

    [Theory]
    [MemberData(nameof(Replies))]
    public void ClassifiesRealReplies(int code, string? status, string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(code, status, text));

    /// <summary>Issue 10: the RFC 3463 status decides before wording ("rejected" never outranks 5.1.1).</summary>
    [Theory]
    [InlineData(550, null, "550 5.1.1 <someone@example.com>: Recipient address rejected: blocked by policy", BounceType.HardBounce)]
    [InlineData(550, "5.1.1", "Delivery refused", BounceType.HardBounce)]
    [InlineData(552, null, "552 5.2.2 Rejected: over the limit", BounceType.SoftBounce)]
    [InlineData(550, null, "550 5.7.26 Rejected: unauthenticated", BounceType.DMARCPolicy)]
    [InlineData(553, null, "553 5.1.7 The sender address is not valid", BounceType.Blocked)]
    [InlineData(451, null, "451 4.1.1 Recipient temporarily rejected: user unknown", BounceType.Transient)]
    public void EnhancedStatusOutranksWording(int code, string? status, string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(code, status, text));

    /// <summary>Issue 10: "junkmail@…" is an address, not spam wording; host names and URLs are not wording either.</summary>
    [Theory]
    [InlineData("550 <junkmail@example.com>: Recipient address rejected: User unknown in local recipient table", BounceType.HardBounce)]
    [InlineData("550 <virus-reports@example.org>... No such user", BounceType.HardBounce)]
    [InlineData("550 spam-filter.example.net: mailbox unavailable for <blocked.user@example.com>", BounceType.HardBounce)]
    [InlineData("550 User unknown; see https://example.com/help/spam-blacklist-policy", BounceType.HardBounce)]
    [InlineData("550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org", BounceType.Blocked)]
    public void RulesNeverMatchInsideAddressesHostsOrUrls(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>Issue 10: wordings from Exim, glibc's resolver, challenge systems, Postfix/Exim DATA-stage reports.</summary>
    [Theory]
    [InlineData("mx.example.invalid: Name or service not known", BounceType.DnsError)]
    [InlineData("retry timeout exceeded", BounceType.Transient)]
    [InlineData("all hosts have been failing for a long time and were last tried after this message arrived", BounceType.Transient)]
    [InlineData("all relevant MX records point to non-existent hosts", BounceType.DnsError)]
    [InlineData("550 This server requires confirmation of your message. Please reply to the confirmation request.", BounceType.ChallengeVerification)]
    [InlineData("Please verify you are human by clicking the link below", BounceType.ChallengeVerification)]
    [InlineData("550 5.0.0 <a@example.jp>: User unknown (in reply to end of DATA command)", BounceType.Blocked)]
    [InlineData("SMTP error from remote mail server after end of data: 550 User unknown", BounceType.Blocked)]
    [InlineData("554 delivery error: dd This user doesn't have a yahoo.com account (a@yahoo.com) [0] (in reply to end of DATA command)", BounceType.HardBounce)]
    [InlineData("550 Bad SPF records for [example.org:192.0.2.1]", BounceType.DMARCPolicy)]
    [InlineData("550 5.7.1 Your message was rejected due to spam classification. Set up SPF records for your domain.", BounceType.SpamNotification)]
    [InlineData("421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints", BounceType.Blocked)]
    public void WordingsDocumentedByMailSystemsAreClassified(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>A recipient address refused with no stated cause is the address family of RFC 5321 §4.2.2 550 "mailbox unavailable".</summary>
    [Theory]
    [InlineData("550 <reader@example.org>: Recipient address rejected.", BounceType.HardBounce)]
    [InlineData("550 #5.1.0 Address rejected.", BounceType.HardBounce)]
    [InlineData("550 5.1.0 <reader@example.org>: Address rejected", BounceType.HardBounce)]
    [InlineData("553 5.1.8 <writer@example.net>: Sender address rejected.", BounceType.Blocked)]
    [InlineData("550 <reader@example.org>: Recipient address rejected: Rejected by local policy", BounceType.Blocked)]
    [InlineData("450 4.1.0 <reader@example.org>: Recipient address rejected.", BounceType.Transient)]
    public void RecipientAddressRejectedWithoutACauseIsAHardBounce(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>RFC 5321 §3.3: the reply to MAIL FROM judges the sender; nothing in it is about the recipient's mailbox or domain.</summary>
    [Theory]
    [InlineData("SMTP error from remote mail server after MAIL FROM:<writer@example.net> SIZE=2048:\n553 5.1.0 example.net does not exist", BounceType.Blocked)]
    [InlineData("host mx.example.org[192.0.2.9] said: 550 No such domain (in reply to MAIL FROM command)", BounceType.Blocked)]
    [InlineData("host mx.example.org[192.0.2.9] said: 550 5.1.1 No such user here (in reply to MAIL FROM command)", BounceType.Blocked)]
    [InlineData("SMTP error from remote mail server after MAIL FROM:<writer@example.net>:\n552 5.3.4 Message size exceeds fixed limit", BounceType.SoftBounce)]
    [InlineData("host mx.example.org[192.0.2.9] said: 550 5.1.1 No such user here (in reply to RCPT TO command)", BounceType.HardBounce)]
    public void RefusalInReplyToMailFromIsABlockOfTheSender(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>RFC 5321 §4.2.1: a 4yz reply is transient; a bare "refused, try later" names no block.</summary>
    [Theory]
    [InlineData("421 4.2.0 Service refused, please try again later", BounceType.Transient)]
    [InlineData("451 Request refused, try later", BounceType.Transient)]
    [InlineData("421 4.7.0 Connection refused: your IP is on a blocklist, try later", BounceType.Blocked)]
    [InlineData("421 Too many concurrent connections from your host, rejected, try later", BounceType.Blocked)]
    [InlineData("554 5.0.0 Service refused, please try again later", BounceType.Blocked)]
    public void TransientGenericRefusalIsTransientUnlessABlockIsNamed(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>A server that refuses the client's session (RFC 5321 §3.1 554 greeting, Postfix "refused to talk to me") blocks the sender.</summary>
    [Theory]
    [InlineData("554 mx.example.org ESMTP not accepting connections", BounceType.Blocked)]
    [InlineData("554 No SMTP service here", BounceType.Blocked)]
    [InlineData("host mx.example.org[192.0.2.5] refused to talk to me: 421 Service not available, closing transmission channel", BounceType.Blocked)]
    [InlineData("host mx.example.org[192.0.2.5] refused to talk to me: 554 Access from your address is not allowed", BounceType.Blocked)]
    public void RefusedSessionIsABlock(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    [Fact]
    public void CodesAreFoundInTheTextWhenNotGiven()
    {
        Assert.Equal(BounceType.HardBounce, SmtpReplyClassifier.Classify(0, null, "550 5.1.1 <a@example.com>... no thanks"));
        Assert.Equal(BounceType.Transient, SmtpReplyClassifier.Classify(0, null, "451 4.0.0 please come back"));
        Assert.Equal(BounceType.DnsError, SmtpReplyClassifier.Classify(0, null, "Sorry, I couldn't find any host named example.invalid. (#5.1.2)"));
    }

    [Fact]
    public void EveryTextRuleIsExercisedByTheTable()
    {
        var texts = Replies.Select(row => row.Data.Item3).ToList();
        foreach (var (pattern, type) in SmtpReplyClassifier.TextRules)
            Assert.True(texts.Any(pattern.IsMatch) || type == BounceType.Transient && pattern.IsMatch("try again later"),
                $"no table row exercises the {type} rule {pattern}");
    }

    [Theory]
    [InlineData("host mx.example.jp [192.0.2.20]: 550 5.7.0 <a@example.jp>... Please use the smtp server of your ISP.", 550)]
    [InlineData("remote host 192.0.2.32 said: 550 Unknown user a@example.ne.jp", 550)]
    [InlineData("The error that the other server returned was: 554 554 5.7.0 Header error (state 18).", 554)]
    [InlineData("a@example.co.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.co.jp>... User Unknown", 550)]
    [InlineData(">>> RCPT To:<a@example.org>\n<<< 550 <a@example.org>, User Unknown", 550)]
    [InlineData("SMTP error from remote mail server after initial connection:\n    571 No PTR Record found. Reverse DNS required: 203.0.113.22", 571)]
    [InlineData("smtp; 5.1.0 - Unknown address error 550-'5.7.1 <a@example.com>... Access denied'", 550)]
    [InlineData("unable to connect to remote server [192.0.2.222:25]: Operation timed out", null)]
    [InlineData("Received at Thu, 29 Apr 2010 23:45:10 -0600 from 192.0.2.250", null)]
    [InlineData("Out: 250 2.1.5 Ok\nIn:  DATA\nOut: 354 End data with <CR><LF>.<CR><LF>\nOut: 451 4.3.0 Error: queue file write error", 451)]
    [InlineData("<<< 250 2.1.0 Sender ok\n<<< 550 5.1.1 Mailbox unknown", 550)]
    public void SmtpCodesAreFoundInDiagnostics(string text, int? code) =>
        Assert.Equal(code, SmtpReplyText.FindSmtpCode(text));

    [Theory]
    [InlineData("5.1.1", 5, 1, 1)]
    [InlineData("4.7.650", 4, 7, 650)]
    [InlineData("5.0.0 (permanent failure)", 5, 0, 0)]
    [InlineData("  2.6.0", 2, 6, 0)]
    public void EnhancedStatusCodesParse(string text, int c, int s, int d)
    {
        Assert.True(EnhancedStatusCode.TryParse(text, out var code));
        Assert.Equal(new EnhancedStatusCode(c, s, d), code);
    }

    [Theory]
    [InlineData("host 192.0.2.153 said")]
    [InlineData("Exim 4.72")]
    [InlineData("8.14.4/8.14.4")]
    [InlineData("3.1.1")]
    public void EnhancedStatusCodesAreNotFoundInAddressesAndVersions(string text) =>
        Assert.Null(EnhancedStatusCode.Find(text));

    /// <summary>A transcript's success replies come before the failing one; the failure is what the notice reports.</summary>
    [Theory]
    [InlineData("Out: 250 2.1.5 Ok\nOut: 354 End data\nOut: 451 4.3.0 Error: queue file write error", "4.3.0")]
    [InlineData("250 2.0.0 Ok", "2.0.0")]
    [InlineData("550 5.1.1 unknown, then 250 2.0.0 reset", "5.1.1")]
    public void FailingStatusInATranscriptWinsOverEarlierSuccess(string text, string expected) =>
        Assert.Equal(expected, EnhancedStatusCode.Find(text)?.ToString());

    /// <summary>RFC 3463 X.3.x is the receiving mail system's status: a failure there is not the address's fault.</summary>
    [Theory]
    [InlineData(" Out: 250-STARTTLS\n Out: 250 2.1.5 Ok\n In:  DATA\n Out: 451 4.3.0 Error: queue file write error", BounceType.Transient)]
    [InlineData("554 5.3.0 Internal mail system failure", BounceType.Transient)]
    [InlineData("530 5.7.0 Must issue a STARTTLS command first", BounceType.Blocked)]
    public void MailSystemStatusIsTransientAndTranscriptCapabilitiesAreNotWording(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));

    /// <summary>A filter named for spam ("SpamAssassin", "spam pattern", a content filter) judged the content; a mailbox holding too many messages is full.</summary>
    [Theory]
    [InlineData("550 5.7.1 Blocked by SpamAssassin", BounceType.SpamNotification)]
    [InlineData("553 Blocked using spam pattern", BounceType.SpamNotification)]
    [InlineData("550 Message refused by SpamFilterPro", BounceType.SpamNotification)]
    [InlineData("host mx.example.com[192.0.2.4] said: 550 5.7.1 Blocked by SpamAssassin (in reply to end of DATA command)", BounceType.SpamNotification)]
    [InlineData("host mx.example.com[192.0.2.4] said: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using bl.example.org", BounceType.Blocked)]
    [InlineData("554 5.7.1 Rejected by the content filter", BounceType.SpamNotification)]
    [InlineData("550 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org", BounceType.Blocked)]
    [InlineData("550 Mailbox holds too many messages in the mailbox, try later", BounceType.SoftBounce)]
    [InlineData("550 User has too many messages on the server", BounceType.SoftBounce)]
    [InlineData("421 Too many messages from your IP, slow down", BounceType.Blocked)]
    public void SpamFiltersAndFullMailboxesAreToldByTheirWording(string text, BounceType expected) =>
        Assert.Equal(expected, SmtpReplyClassifier.Classify(0, null, text));
}
