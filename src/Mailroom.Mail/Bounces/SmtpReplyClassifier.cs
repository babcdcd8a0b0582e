using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Classifies an SMTP reply (live, during delivery) or a bounce diagnostic into a Postmark
/// <see cref="BounceType"/>. This is the single classification table of Mailroom: the DSN and plain
/// text bounce readers call it too.
/// </summary>
/// <remarks>
/// Order of evidence (most trustworthy first):
/// <list type="number">
/// <item>the enhanced status code (RFC 3463 §3, IANA SMTP Enhanced Status Codes registry) when its detail
/// names one cause (<see cref="ByDefiningStatus"/>: 5.1.1 unknown mailbox, 5.2.2 mailbox full, 5.7.26
/// DMARC …): machine-readable and standardised, it outranks any wording;</item>
/// <item>the reply text, matched against <see cref="TextRules"/> (first rule in table order wins, so
/// specific causes such as DMARC or a blocklist beat generic words such as "rejected"). Addresses, URLs and
/// host names are masked first, so no rule ever matches inside <c>junkmail@example.com</c> or
/// <c>spam.example.net</c>;</item>
/// <item>further text (for bounces: the recipient's paragraph of the human-readable part, then the whole part);</item>
/// <item>the status code's subject alone (X.7.x policy, X.4.x routing …);</item>
/// <item>the basic SMTP reply code (RFC 5321 §4.2.3);</item>
/// <item>the class: 4 gives <see cref="BounceType.Transient"/>, anything else <see cref="BounceType.Unknown"/>.</item>
/// </list>
/// A transient (4xx / 4.x.x) reply is never classified as a hard bounce or bad address: those are
/// downgraded to <see cref="BounceType.Transient"/> (RFC 3463 §3.2 "persistent transient failure").
/// A success reply (2xx / 2.x.x) is <see cref="BounceType.Unknown"/>: it is not a bounce.
/// An "unknown user" refusal given in reply to DATA rather than RCPT (RFC 5321 §3.3: recipients are
/// accepted or refused at RCPT) is the receiving side's filter, not proof that the mailbox is gone:
/// <see cref="BounceType.Blocked"/>, never suppressed.
/// </remarks>
public static partial class SmtpReplyClassifier
{
    /// <summary>Classifies one SMTP reply.</summary>
    /// <param name="smtpCode">The basic reply code (e.g. 550), or 0 when unknown; then it is looked for in <paramref name="text"/>.</param>
    /// <param name="enhancedStatus">The enhanced status code (e.g. "5.1.1"), or null; then it is looked for in <paramref name="text"/>.</param>
    /// <param name="text">The reply text, with or without the codes.</param>
    public static BounceType Classify(int smtpCode, string? enhancedStatus, string? text)
    {
        EnhancedStatusCode? status = EnhancedStatusCode.TryParse(enhancedStatus, out var parsed) ? parsed : null;
        return Classify(smtpCode, status, [text]);
    }

    /// <summary>
    /// Classifies with several pieces of evidence, most specific first. <paramref name="evidence"/>[0] is
    /// the reply itself (e.g. a DSN Diagnostic-Code); later entries are only consulted when neither the
    /// status code nor the reply text decided.
    /// </summary>
    internal static BounceType Classify(int smtpCode, EnhancedStatusCode? status, ReadOnlySpan<string?> evidence)
    {
        var primary = evidence.Length > 0 ? evidence[0] : null;
        // The remote server's own reply (the diagnostic) is more direct evidence than the reporting MTA's
        // summary in the DSN Status field (RFC 3464 §2.3.4, §2.3.6), which often says only X.0.0 or a guess.
        if (EnhancedStatusCode.Find(primary) is { } inText && (status is null || inText.Class == status.Value.Class || status.Value.IsUndefined))
            status = inText;
        if (smtpCode == 0)
            smtpCode = SmtpReplyText.FindSmtpCode(primary) ?? 0;

        var replyClass = status?.Class ?? (smtpCode / 100 is 2 or 4 or 5 ? smtpCode / 100 : 0);
        if (replyClass == 2)
            return BounceType.Unknown;

        var byStatus = status is { } s0 ? ByDefiningStatus(s0) : null;
        var type = byStatus ?? MatchText(primary);
        // The status subject (X.7 policy, X.6 content, X.4 routing …) outranks the wording of the rest of the
        // notice, which is mostly boilerplate ("try again later", "rejected").
        type ??= status is { } s1 ? ByStatus(s1) : null;
        for (var i = 1; type is null && i < evidence.Length; i++)
            type = MatchText(evidence[i]);
        type ??= ByBasicCode(smtpCode);
        type ??= replyClass == 4 ? BounceType.Transient : BounceType.Unknown;

        if (type == BounceType.HardBounce && byStatus is null && RefusedAtData(evidence) && !AccountGone(primary))
            type = BounceType.Blocked;
        // RFC 5321 §3.3: the reply to MAIL FROM judges the reverse-path (the sender), before any recipient is named, so
        // "does not exist" or a 550/553 there says nothing about the recipient's mailbox or domain: the sender was refused.
        if (type is BounceType.HardBounce or BounceType.BadEmailAddress or BounceType.DnsError && RefusedAtMailFrom(evidence))
            type = BounceType.Blocked;
        // A transient reply (RFC 5321 §4.2.1: 4yz, "the command was not accepted ... the client SHOULD try again") that
        // names no cause beyond a generic "refused" and asks to try later is a temporary failure, not a block.
        if (replyClass == 4 && type == BounceType.Blocked && byStatus is null && OnlyGenericRefusal(primary))
            type = BounceType.Transient;
        if (replyClass == 4 && type is BounceType.HardBounce or BounceType.BadEmailAddress)
            return BounceType.Transient;
        return type.Value;
    }

    /// <summary>An explicit statement that the account itself is disabled or absent, whatever the SMTP stage (Yahoo answers so after DATA).</summary>
    private static bool AccountGone(string? text) => !string.IsNullOrEmpty(text) && AccountGoneRule().IsMatch(Mask(text.Length <= MaxTextLength ? text : text[..MaxTextLength]));

    /// <summary>
    /// The type of a delay (RFC 3464 §2.3.3 <c>Action: delayed</c>, or a text delay warning): not final, so never a
    /// hard bounce, but a stated temporary cause keeps its type (a full mailbox is a SoftBounce, a DNS failure a
    /// DnsError, a block a Blocked); anything else is Transient ("message delayed").
    /// </summary>
    internal static BounceType ForDelay(BounceType cause) =>
        cause is BounceType.SoftBounce or BounceType.DnsError or BounceType.Blocked or BounceType.DMARCPolicy
            or BounceType.SpamNotification or BounceType.VirusNotification or BounceType.ChallengeVerification
            ? cause : BounceType.Transient;

    /// <summary>The failure was the reply to DATA / end of data, as Postfix, Exim, Sendmail and m-FILTER report it.</summary>
    private static bool RefusedAtData(ReadOnlySpan<string?> evidence)
    {
        foreach (var text in evidence)
            if (!string.IsNullOrEmpty(text) && DataStageRule().IsMatch(text.Length <= MaxTextLength ? text : text[..MaxTextLength]))
                return true;
        return false;
    }

    /// <summary>The failure was the reply to MAIL FROM, as Exim ("after MAIL FROM:") and Postfix ("in reply to MAIL FROM command") report it.</summary>
    private static bool RefusedAtMailFrom(ReadOnlySpan<string?> evidence)
    {
        foreach (var text in evidence)
            if (!string.IsNullOrEmpty(text) && MailFromStageRule().IsMatch(text.Length <= MaxTextLength ? text : text[..MaxTextLength]))
                return true;
        return false;
    }

    /// <summary>The reply's only cause is the generic refusal wording, and it asks to try again later.</summary>
    private static bool OnlyGenericRefusal(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var masked = Mask(text.Length <= MaxTextLength ? text : text[..MaxTextLength]);
        foreach (var (pattern, type) in TextRules)
        {
            if (ReferenceEquals(pattern, RefusalRule()))
                return TemporaryRule().IsMatch(masked);
            if (pattern.IsMatch(masked))
                return false;
        }
        return false;
    }

    /// <summary>The first <see cref="TextRules"/> entry matching <paramref name="text"/>, or null.</summary>
    internal static BounceType? MatchText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (text.Length > MaxTextLength)
            text = text[..MaxTextLength];
        text = Mask(text);
        foreach (var (pattern, type) in TextRules)
            if (pattern.IsMatch(text))
                return type;
        return null;
    }

    /// <summary>
    /// The text with URLs, addresses and host names replaced by neutral words, so that rules match the
    /// server's wording only (never <c>junkmail@…</c>, <c>virus.example.org</c> or a URL path). A host name
    /// of a DNS blocklist operator becomes the word "blocklist": naming one is the evidence.
    /// </summary>
    internal static string Mask(string text)
    {
        text = UrlToken().Replace(text, " xlink ");
        text = BounceAddresses.AddressPattern().Replace(text, " xaddr ");
        text = HostToken().Replace(text, m => BlocklistOperator().IsMatch(m.Value) ? " blocklist " : " xhost ");
        // Success lines of a session transcript ("Out: 250-STARTTLS", "<<< 250 2.1.5 Ok") list capabilities and accepted
        // commands: an EHLO keyword such as STARTTLS there is not a TLS requirement, and no 2xx reply states a failure.
        text = SuccessTranscriptLine().Replace(text, " ");
        // The reporting MTA's preamble naming the remote server (Postfix "host mx.example[192.0.2.1] said:", Exim
        // "host mx.example [192.0.2.1]:") is not the server's wording: "host ... blocked by X" must not read as a host block.
        text = RemoteHostPreamble().Replace(text, " xremote ");
        text = ContinuationPrefix().Replace(text, " ");
        // RFC 3464 §2.1.2 type names ("Remote-MTA: dns; ...", "Diagnostic-Code: smtp; ...") are not wording.
        text = TypeNamePrefix().Replace(text, " ");
        // Authentication-Results style "spf=pass dkim=pass" in quoted headers are not failures.
        text = PassingAuthentication().Replace(text, " ");
        return Spaces().Replace(text, " ");
    }

    private const int MaxTextLength = 16 * 1024;

    /// <summary>
    /// The text rules, in priority order. Each regex is case-insensitive. Keep specific causes above
    /// generic ones; every rule is covered by the table test in SmtpReplyClassifierTests.
    /// </summary>
    internal static readonly IReadOnlyList<(Regex Pattern, BounceType Type)> TextRules =
    [
        // Challenge/response systems (Boxbe, Bluebottle, Spam Arrest, MailFrontier Matador).
        (ChallengeRule(), BounceType.ChallengeVerification),
        (VirusRule(), BounceType.VirusNotification),
        // Messages refused for their form (duplicate or malformed headers) rather than for being spam;
        // above authentication, since "duplicate DKIM-Signature header" is a format fault, not a DKIM failure.
        (MessageFormatRule(), BounceType.Blocked),
        // RFC 7372 §3.1 (5.7.20–5.7.24 DKIM/SPF), RFC 7372 §3.3 (5.7.26 multiple authentication checks failed: DMARC),
        // Microsoft 5.7.509–5.7.515 (DMARC / sender authentication).
        (AuthenticationRule(), BounceType.DMARCPolicy),
        // Exchange Online directory-based edge blocking: the recipient does not exist in the tenant.
        (DirectoryRejectionRule(), BounceType.HardBounce),
        // Blocks aimed at the sending host, IP, domain or envelope sender: blocklists, reputation,
        // missing PTR, rate limits, relaying, HELO, TLS, authentication required, and sessions the server refused
        // (Postfix "refused to talk to me": a non-2xx greeting, RFC 5321 §3.1).
        // A URL or domain in the message found on a content blocklist (SURBL, URIBL): the content, not the sender's IP.
        (ContentBlocklistRule(), BounceType.SpamNotification),
        (SenderBlockRule(), BounceType.Blocked),
        (SpamContentRule(), BounceType.SpamNotification),
        (MailboxFullRule(), BounceType.SoftBounce),
        // RFC 3463 §3.2 X.1.3 "bad destination mailbox address syntax".
        (AddressSyntaxRule(), BounceType.BadEmailAddress),
        (UnknownRecipientRule(), BounceType.HardBounce),
        // Recipient domain problems: NXDOMAIN, no MX, null MX (RFC 7505), routing loops.
        (DomainRule(), BounceType.DnsError),
        (GreylistRule(), BounceType.Transient),
        // Time-outs and connection failures (often reported as expired after retrying).
        (ConnectionRule(), BounceType.Transient),
        // A notice that states no cause but asks the sender to check that the address is correct (InterScan MSS,
        // Exchange's "check the recipient's address for typos"): the address is what failed. Below every stated cause.
        (AddressAdviceRule(), BounceType.HardBounce),
        // Generic refusals: policy or content of the message.
        (RefusalRule(), BounceType.Blocked),
        (TemporaryRule(), BounceType.Transient),
    ];

    /// <summary>
    /// Enhanced status codes whose detail names a single cause (RFC 3463 §3, RFC 7372, RFC 7505, IANA
    /// registry): these decide before any wording. Codes that servers use loosely for many causes (X.7.1
    /// "delivery not authorized", X.5.0, X.0.0, X.1.0, X.2.0, Microsoft's X.1.10) are left to the text.
    /// </summary>
    internal static BounceType? ByDefiningStatus(EnhancedStatusCode status) => status.Class == 2 ? BounceType.Unknown : (status.Subject, status.Detail) switch
    {
        (1, 1) => BounceType.HardBounce,       // bad destination mailbox address
        (1, 2) => BounceType.DnsError,         // bad destination system address
        (1, 3) => BounceType.BadEmailAddress,  // bad destination mailbox address syntax
        (1, 6) => BounceType.HardBounce,       // destination mailbox has moved, no forwarding address
        (2, 2) => BounceType.SoftBounce,       // mailbox full
        (2, 3) => BounceType.SoftBounce,       // message length exceeds administrative limit
        (3, 1) => BounceType.SoftBounce,       // mail system full
        (3, 4) => BounceType.SoftBounce,       // message too big for system
        (4, 4) => BounceType.DnsError,         // unable to route (no MX / A)
        (1, 7) or (1, 8) => BounceType.Blocked, // bad sender's mailbox address syntax / sender's system address
        (7, 13) => BounceType.HardBounce,      // IANA: user account disabled
        (7, 17) or (7, 18) => BounceType.HardBounce, // RFC 7293: mailbox / domain owner has changed
        (7, 25) => BounceType.Blocked,         // RFC 7372 §3.2: reverse DNS validation failed
        (7, 20) or (7, 21) or (7, 22) or (7, 23) or (7, 24) or (7, 26) => BounceType.DMARCPolicy, // RFC 7372 §3.1, §3.3
        (7, >= 509 and <= 515) => BounceType.DMARCPolicy, // Microsoft: sender authentication / DMARC
        _ => null,
    };

    /// <summary>RFC 3463 §3 status codes, when neither a defining code nor the text decided.</summary>
    internal static BounceType? ByStatus(EnhancedStatusCode status)
    {
        if (status.Class == 2)
            return BounceType.Unknown;
        if (status.IsUndefined)
            return null;
        if (ByDefiningStatus(status) is { } exact)
            return exact;
        return (status.Subject, status.Detail) switch
        {
            (1, 4) => BounceType.HardBounce,       // destination mailbox address ambiguous
            // "Mailbox disabled, not accepting messages": RFC 3463 allows it to be temporary, and Gmail sends
            // 5.2.1 for rate limits too, so the wording decides; alone it is a hard bounce.
            (2, 1) => BounceType.HardBounce,
            (4, 7) => null,                        // delivery time expired: the cause, if stated, is in the text (class 4 → Transient otherwise)
            (7, 27) => BounceType.Blocked,         // RFC 7505 §4.3: sender address has null MX
            (1, 10) => BounceType.HardBounce,      // RFC 7505 null MX; Microsoft: recipient not found
            (1, _) when status.Detail != 0 => BounceType.HardBounce, // addressing status
            (3, 2) => BounceType.DnsError,         // system not accepting network messages
            (3, _) => BounceType.Transient,        // mail system status: the receiving system failed, not the address
            (4, 3) => BounceType.DnsError,         // directory server failure
            (4, _) => BounceType.Transient,        // network and routing status
            (6, _) => BounceType.Blocked,          // message content or media status
            (7, _) => BounceType.Blocked,          // security or policy status
            _ => null,
        };
    }

    /// <summary>RFC 5321 §4.2.3 basic reply codes and RFC 7504 (521/556).</summary>
    internal static BounceType? ByBasicCode(int smtpCode) => smtpCode switch
    {
        421 or 450 or 451 or 452 => BounceType.Transient,
        550 or 551 => BounceType.HardBounce,  // mailbox unavailable / user not local
        552 => BounceType.SoftBounce,         // exceeded storage allocation
        553 => BounceType.BadEmailAddress,    // mailbox name not allowed
        521 or 556 => BounceType.HardBounce,  // RFC 7504: domain does not accept mail
        _ => null,
    };

    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant;
    private const int TimeoutMs = 2000;

    [GeneratedRegex(@"not pre-?approved|challenge[- ]response|guest ?list|waitlisted|verify (that )?you (are|sent)|confirm (that )?you (are|sent)|sender verification (request|required)|spam ?arrest|\bboxbe\b|bluebottle|matador|mailfrontier|(added|add yourself) to (my|the recipient'?s?) (allowed|approved|white|guest) ?list|requires? (sender |your )?(confirmation|verification)|(verify|confirm|prove) (that )?you(')?(re| are) (a )?(human|real|person|not a (robot|spammer))|confirm your (e-?mail|message|identity|address)|(click|reply|respond)\b.{0,60}\b(verify|confirm) (that )?(you|your)|(awaiting|waiting for|pending) (your |sender )?(confirmation|verification)", Options, TimeoutMs)]
    private static partial Regex ChallengeRule();

    [GeneratedRegex(@"virus|malware|infected|trojan|\bworm\b|malicious (content|attachment|code|software)", Options, TimeoutMs)]
    private static partial Regex VirusRule();

    // A mention of SPF/DKIM/DMARC is not enough (notices advise "set up SPF records"): a failure, a policy or a check must be named.
    [GeneratedRegex(@"\b(dmarc|spf|dkim|domainkeys)\b[^.;]{0,60}\b(fail\w*|reject\w*|polic(y|ies)|verification|violation|check|not (pass|permit\w*|authori[sz]\w*|valid|signed|aligned)|does not pass|invalid|quarantine)|\b(fail\w*|reject\w*|invalid|violat\w*|no valid|bad|not allowed|per)\b[^.;]{0,40}\b(dmarc|spf|dkim|domainkeys)\b|due to (the |an? )?(\S+ )?(dmarc|spf|dkim)\b|sender policy framework|sender ?id\b|unauthenticated (e-?mail|mail|message)|authentication (checks? )?fail|fails? to pass (spf|dkim|authentication)|does not have authentication information|(?<![\d.])[45]\.7\.(2[0-4]|26|5(09|1[0-5]))(?!\d)", Options, TimeoutMs)]
    private static partial Regex AuthenticationRule();

    [GeneratedRegex(@"recipient address rejected: access denied|(?<![\d.])5\.4\.1 .{0,80}access denied", Options, TimeoutMs)]
    private static partial Regex DirectoryRejectionRule();

    [GeneratedRegex(@"black ?list|block ?list|deny ?list|(?<!not )listed (at|in|on|by)\b|\brbl\b|dnsbl|spamhaus|spamcop|\bsorbs\b|abuseat|barracudacentral|uceprotect|reputation|\bbanned\b|client host (\S+ )?(rejected|blocked)|(\bip\b|host|network|sender|domain)\b.{0,40}\b(blocked|banned|not allowed|blacklisted)|blocked (using|by|ip|for)(?! (an? |the )?spam)|not (allowed|authori[sz]ed|permitted) to send|(sender|from) address (rejected|denied|refused|invalid)|\bsender\b.{0,40}\b(rejected|denied|refused|not allowed|verify failed)|unroutable sender|domain of sender|sender domain|mail from.{0,60}(rejected|refused|denied)|my name was rejected|invalid (helo|ehlo)|(helo|ehlo)\b.{0,40}\b(rejected|invalid|refused)|invalid domain name|reverse (dns|lookup)|\bptr\b|\brdns\b|relay(ing)? (access )?(denied|not permitted|prohibited|refused)|not (configured|permitted|allowed|authori[sz]ed) to relay|unable to relay|as a relay|do not relay|access denied|auth(entication)? required|(requires?|must use|does ?n[o']t support|not support) (tls|starttls|encryption|a secure)|tls (is )?required|\bstarttls\b|rate[- ]limit|too many (connections|messages|recipients|concurrent|sessions|mails|e-?mails)(?! (on|in|stored) (the |this |your |his |her )?(server|mail ?box|account|folder|inbox))|frequency limit|connection rate|sending rate|at a rate that|throttl|(relay|sending|daily) (quota|limit)|daily (sending |message )?(limit|quota)|(do not|don'?t|may not) have permission to (post|send)|(unexpected|excessive|unusual|high) (volume|rate)|limits? (for|on) how many (messages|e-?mails) can be sent|user complaints|invalid ip\b|(ip|address) (is )?not (allowed|permitted|authori[sz]ed) to send|refused to talk to me|'?send mail as'? (feature|account|settings?|address)|sending (this )?from a different address or alias|(?<![\d.])[45]\.7\.25(?!\d)", Options, TimeoutMs)]
    private static partial Regex SenderBlockRule();

    [GeneratedRegex(@"(black|block|deny) ?list(ed)? (url|link|uri|domain in (the )?(message|body))|\b(surbl|uribl)\b", Options, TimeoutMs)]
    private static partial Regex ContentBlocklistRule();

    [GeneratedRegex(@"not (rfc ?\d{3,4} )?compliant|\brfc ?(5322|2822|822) (violation|compliance|non-?compliant)|multiple\b.{0,40}\bheaders?\b|improper use of 8-bit|8-?bit data|header error|invalid (message )?header|malformed (message|header)|protocol violation|duplicate (\S+ )?header", Options, TimeoutMs)]
    private static partial Regex MessageFormatRule();

    [GeneratedRegex(@"\bspam\w*|content[- ]filter|\bUBE\b|unsolicited|bulk (e-?mail|mail)|junk ?mail|content (was )?(rejected|filtered|flagged)|message content|scored as|classified as|looks like|suspicious|phishing", Options, TimeoutMs)]
    private static partial Regex SpamContentRule();

    [GeneratedRegex(@"too many (messages|mails|e-?mails) (on|in|stored) (the |this |your |his |her )?(server|mail ?box|account|folder|inbox)|mail ?box (is )?full|mail ?box.{0,30}\b(full|over ?quota|exceeds?)|over ?quota|quota (exceeded|full|limit)|exceed(s|ed)?\b.{0,40}\b(quota|storage|size|allowed)|disk quota|insufficient (disk |system |mail )?(space|storage)|out of (disk )?(space|storage)|storage (allocation|limit|space|full)|not enough (disk )?(space|storage)|\bis full\b|full mail ?box|message (is )?too (large|big)|(message|mail) size.{0,40}(limit|exceed)|size limit|too (large|big) for|message length exceeds|line (length )?limit exceeded|recipsizelimit|(?<![\d.])[45]\.(2\.[23]|3\.[14])(?!\d)", Options, TimeoutMs)]
    private static partial Regex MailboxFullRule();

    [GeneratedRegex(@"bad (destination )?(mailbox )?address syntax|address syntax|syntax (error )?(in|of) (the )?(recipient |e-?mail |destination )?address|(invalid|malformed|illegal) (e-?mail )?address (syntax|format)|address (is )?malformed|(?<![\d.])5\.1\.3(?!\d)", Options, TimeoutMs)]
    private static partial Regex AddressSyntaxRule();

    [GeneratedRegex(@"user unknown|unknown user|(\buser|mail ?box|recipient|address|account|addressee)\b(?!@).{0,25}\b(unknown|not found|does ?n[o']t exist|not exist|no longer exists?|not known|invalid|unavailable|not available|not valid)|unknown (local[- ]?part|recipient|mail ?box|address|alias|account)|no such (user|mail ?box|recipient|address|account|local user|person)|invalid (recipient|mail ?box|user|address|destination)|not listed in|recipient name is not recognized|not (our|a local|a valid) (user|customer|recipient|mailbox)|unrouteable address|no mail ?box|recip(ient)?notfound|does ?n[o']t have an? (\S+ )?account|no longer (on (this |the )?server|in use|valid|active|available|employed|with)|not a registered|bad destination mail ?box|user (is )?not (local|found)|(account|mail ?box|\buser|address)\b(?!@).{0,60}\b(disabled|suspended|deactivated|discontinued|inactive|locked|closed|terminated|expired|cancell?ed)|(disabled|suspended|deactivated|inactive|closed) (account|mail ?box|user)|\[suspend\]|(account|mail ?box) (is |has been )?(blocked|locked|frozen)|address (could ?n[o']t|could not|can'?t|cannot) be found|no valid recipients?|not a (registered|known) (gateway )?user|invalid (final delivery )?user ?id|\baddress rejected\s*(\.|$)", Options, TimeoutMs)]
    private static partial Regex UnknownRecipientRule();

    [GeneratedRegex(@"host (or domain name )?not found|host unknown|unknown host|could ?n[o']t find any host|no such (host|domain)|name ?service error|name server|domain (name )?(does ?n[o']t exist|not found|not exist|unknown)|domain\b.{0,40}\b(not found|does not exist|not reachable|unreachable)|no (mx|mail exchanger|dns|a record)|could ?n[o']t find a mail exchanger|\bdns\b|nxdomain|unrouteable mail domain|unable to route|\bmx (record|lookup)|null mx|does not accept (e-?)?mail|accepts no mail|routing loop|mail loop|loops back to (myself|itself)|too many hops|name or service not known|no address associated with (host ?)?name|temporary failure in name resolution|(mx|srv) records? indicated? no (smtp )?service|no mx found|domain has no (mx|mail)|host ?name lookup fail|not accepting (network )?messages|(mx records? )?points? to non-?existent hosts?", Options, TimeoutMs)]
    private static partial Regex DomainRule();

    [GeneratedRegex(@"in\s+reply\s+to\s+(end\s+of\s+)?DATA\s+command|after\s+end\s+of\s+data\b|SMTP\s+command\s+DATA\b", Options, TimeoutMs)]
    private static partial Regex DataStageRule();

    [GeneratedRegex(@"\bafter\s+MAIL\s+FROM\b|in\s+reply\s+to\s+MAIL\s+FROM\s+command", Options, TimeoutMs)]
    private static partial Regex MailFromStageRule();

    [GeneratedRegex(@"disabled|suspended|deactivated|discontinued|does ?n[o']t have an? (\S+ )?account", Options, TimeoutMs)]
    private static partial Regex AccountGoneRule();

    [GeneratedRegex(@"\b(?:https?|ftp)://[^\s<>""']+|\bwww\.[^\s<>""']+", Options, TimeoutMs)]
    private static partial Regex UrlToken();

    // Host names: dotted labels ending in an all-lower or all-upper case label (a TLD), so Microsoft's
    // "RESOLVER.ADR.RecipientNotFound" stays text.
    [GeneratedRegex(@"(?<![\w.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[a-z]{2,24}|[A-Z]{2,24})(?![\w-])", RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex HostToken();

    [GeneratedRegex(@"spamhaus|spamcop|sorbs|barracudacentral|uceprotect|abuseat|surbl|uribl|dnsbl|\brbl|blocklist|blacklist|blackhole|mailspike|senderscore|invaluement", Options, TimeoutMs)]
    private static partial Regex BlocklistOperator();

    [GeneratedRegex(@"^[ \t]*(?:Out:|<<<|S:)?[ \t]*2\d\d[ -][^\r\n]*", RegexOptions.CultureInvariant | RegexOptions.Multiline, TimeoutMs)]
    private static partial Regex SuccessTranscriptLine();

    [GeneratedRegex(@"\b(?:remote )?host\s+xhost\s*\[[0-9A-Fa-f.:]{1,45}\](?:\s*said)?:?", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex RemoteHostPreamble();

    // Continuation lines of a multi-line reply (RFC 5321 §4.2.1: "550-5.7.1 text"), which split sentences.
    [GeneratedRegex(@"(?<![\w.])[245]\d\d-(?:[245]\.\d{1,3}\.\d{1,3}\s)?", RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex ContinuationPrefix();

    [GeneratedRegex(@"\b(spf|dkim|dmarc|arc|domainkeys|sender-?id)\s*=\s*(pass|none|neutral|bestguesspass)\b", Options, TimeoutMs)]
    private static partial Regex PassingAuthentication();

    [GeneratedRegex(@"\b(dns|rfc822|smtp|x-[\w-]+|utf-8)\s*;", Options, TimeoutMs)]
    private static partial Regex TypeNamePrefix();

    [GeneratedRegex(@"[ \t]{2,}", RegexOptions.CultureInvariant, TimeoutMs)]
    private static partial Regex Spaces();

    [GeneratedRegex(@"gr[ae]y ?list", Options, TimeoutMs)]
    private static partial Regex GreylistRule();

    [GeneratedRegex(@"timed? ?out|time-?out|connection (refused|reset|lost|closed|dropped)|expired|retry time|queue too long|too long in (the )?queue|unable to connect|could ?n[o']t connect|no route to host|network is unreachable|lost connection|could not be delivered within|all (relevant )?hosts? (have|has) been failing|retry time ?out (exceeded|reached)|could not deliver for the last|delivery failed \d+ attempts|socket error|did not accept our requests to connect|in the queue too long|too many (delivery )?(attempts|retries)|message expired|after (multiple|several|many|\d+) (retries|attempts)|not (been )?delivered within|(host|server) is not responding", Options, TimeoutMs)]
    private static partial Regex ConnectionRule();

    [GeneratedRegex(@"(check|verify|confirm|make sure) (if|whether|that) (the )?(recipient'?s? |destination )?(e-?mail )?address(es)? (is|are) (correct|valid|right|spelled correctly)|check (the )?(recipient'?s? )?(e-?mail )?address(es)? for (typos|spelling|errors)", Options, TimeoutMs)]
    private static partial Regex AddressAdviceRule();

    [GeneratedRegex(@"polic(y|ies)|violation|not accepting connections|no smtp service|not accepted|not allowed|not permitted|refused|rejected|denied|blocked|prohibit(ed|ion)|forbidden|filtered", Options, TimeoutMs)]
    private static partial Regex RefusalRule();

    [GeneratedRegex(@"temporar|try again|deferred|delayed|later|busy|congest|resources|local error|system error|service (is )?(currently |temporarily )?(not available|unavailable)", Options, TimeoutMs)]
    private static partial Regex TemporaryRule();

}
