using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Classifies an SMTP reply (live, during delivery) or a bounce diagnostic into a Postmark
/// <see cref="BounceType"/>. This is the single classification table of Mailroom: the DSN and plain
/// text bounce readers call it too.
/// </summary>
/// <remarks>
/// Order of evidence:
/// <list type="number">
/// <item>the reply text, matched against <see cref="TextRules"/> (first rule in table order wins, so
/// specific causes such as DMARC or a blocklist beat generic words such as "rejected");</item>
/// <item>the enhanced status code (RFC 3463 §3) when its detail is specific (not X.Y.0);</item>
/// <item>further text (for bounces: the recipient's paragraph of the human-readable part, then the whole part);</item>
/// <item>the status code's subject alone (X.7.0 policy, X.4.0 routing …);</item>
/// <item>the basic SMTP reply code (RFC 5321 §4.2.3);</item>
/// <item>the class: 4 gives <see cref="BounceType.Transient"/>, anything else <see cref="BounceType.Unknown"/>.</item>
/// </list>
/// A transient (4xx / 4.x.x) reply is never classified as a hard bounce or bad address: those are
/// downgraded to <see cref="BounceType.Transient"/> (RFC 3463 §3.2 "persistent transient failure").
/// A success reply (2xx / 2.x.x) is <see cref="BounceType.Unknown"/>: it is not a bounce.
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
    /// reply text nor a specific status code decided.
    /// </summary>
    internal static BounceType Classify(int smtpCode, EnhancedStatusCode? status, ReadOnlySpan<string?> evidence)
    {
        var primary = evidence.Length > 0 ? evidence[0] : null;
        status ??= EnhancedStatusCode.Find(primary);
        if (smtpCode == 0)
            smtpCode = SmtpReplyText.FindSmtpCode(primary) ?? 0;

        var replyClass = status?.Class ?? (smtpCode / 100 is 2 or 4 or 5 ? smtpCode / 100 : 0);
        if (replyClass == 2)
            return BounceType.Unknown;

        var type = MatchText(primary)
            ?? (status is { } s1 ? ByStatus(s1, specificOnly: true) : null);
        for (var i = 1; type is null && i < evidence.Length; i++)
            type = MatchText(evidence[i]);
        type ??= status is { } s2 ? ByStatus(s2, specificOnly: false) : null;
        type ??= ByBasicCode(smtpCode);
        type ??= replyClass == 4 ? BounceType.Transient : BounceType.Unknown;

        if (replyClass == 4 && type is BounceType.HardBounce or BounceType.BadEmailAddress)
            return BounceType.Transient;
        return type.Value;
    }

    /// <summary>The first <see cref="TextRules"/> entry matching <paramref name="text"/>, or null.</summary>
    internal static BounceType? MatchText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (text.Length > MaxTextLength)
            text = text[..MaxTextLength];
        foreach (var (pattern, type) in TextRules)
            if (pattern.IsMatch(text))
                return type;
        return null;
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
        // RFC 7372 §3.1 (5.7.20–5.7.24 DKIM/SPF), RFC 7372 §3.3 (5.7.26 multiple authentication checks failed: DMARC),
        // Microsoft 5.7.509–5.7.515 (DMARC / sender authentication).
        (AuthenticationRule(), BounceType.DMARCPolicy),
        // Exchange Online directory-based edge blocking: the recipient does not exist in the tenant.
        (DirectoryRejectionRule(), BounceType.HardBounce),
        // Blocks aimed at the sending host, IP, domain or envelope sender: blocklists, reputation,
        // missing PTR, rate limits, relaying, HELO, TLS, authentication required.
        (SenderBlockRule(), BounceType.Blocked),
        // Messages refused for their format rather than for being spam.
        (MessageFormatRule(), BounceType.Blocked),
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
        // Generic refusals: policy or content of the message.
        (RefusalRule(), BounceType.Blocked),
        (TemporaryRule(), BounceType.Transient),
    ];

    /// <summary>RFC 3463 §3 status codes. With <paramref name="specificOnly"/>, only details precise enough to outrank reply text.</summary>
    internal static BounceType? ByStatus(EnhancedStatusCode status, bool specificOnly)
    {
        if (status.Class == 2)
            return BounceType.Unknown;
        if (status.IsUndefined)
            return null;

        BounceType? exact = (status.Subject, status.Detail) switch
        {
            (1, 1) => BounceType.HardBounce,       // bad destination mailbox address
            (1, 2) => BounceType.DnsError,         // bad destination system address
            (1, 3) => BounceType.BadEmailAddress,  // bad destination mailbox address syntax
            (1, 4) => BounceType.HardBounce,       // destination mailbox address ambiguous
            (1, 6) => BounceType.HardBounce,       // destination mailbox has moved, no forwarding address
            (1, 7) => BounceType.Blocked,          // bad sender's mailbox address syntax
            (1, 8) => BounceType.Blocked,          // bad sender's system address
            (1, 10) => BounceType.HardBounce,      // RFC 7505 §4.2: recipient address has null MX
            (2, 1) => BounceType.HardBounce,       // mailbox disabled, not accepting messages
            (2, 2) => BounceType.SoftBounce,       // mailbox full
            (2, 3) => BounceType.SoftBounce,       // message length exceeds administrative limit
            (3, 1) => BounceType.SoftBounce,       // mail system full
            (3, 4) => BounceType.SoftBounce,       // message too big for system
            (4, 3) => BounceType.DnsError,         // directory server failure
            (4, 4) => BounceType.DnsError,         // unable to route
            (4, 6) => BounceType.Transient,        // routing loop detected
            (4, 7) => BounceType.Transient,        // delivery time expired
            (7, 25) => BounceType.Blocked,         // RFC 7372: reverse DNS validation failed
            (7, 20) or (7, 21) or (7, 22) or (7, 23) or (7, 24) or (7, 26) => BounceType.DMARCPolicy,
            (7, >= 509 and <= 515) => BounceType.DMARCPolicy, // Microsoft: sender authentication / DMARC
            _ => null,
        };
        if (exact is not null)
            return exact;
        if (specificOnly && status.Detail == 0)
            return null;
        return status.Subject switch
        {
            1 when status.Detail != 0 => BounceType.HardBounce, // addressing status
            4 => BounceType.Transient,                          // network and routing status
            6 => BounceType.Blocked,                            // message content or media status
            7 => BounceType.Blocked,                            // security or policy status
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

    [GeneratedRegex(@"not pre-?approved|challenge[- ]response|guest ?list|waitlisted|verify (that )?you (are|sent)|confirm (that )?you (are|sent)|sender verification (request|required)|spam ?arrest|\bboxbe\b|bluebottle|matador|mailfrontier|(added|add yourself) to (my|the recipient'?s?) (allowed|approved|white|guest) ?list", Options, TimeoutMs)]
    private static partial Regex ChallengeRule();

    [GeneratedRegex(@"virus|malware|infected|trojan|\bworm\b|malicious (content|attachment|code|software)", Options, TimeoutMs)]
    private static partial Regex VirusRule();

    [GeneratedRegex(@"dmarc|\bspf\b|\bdkim\b|domainkeys|sender policy framework|sender ?id\b|unauthenticated (e-?mail|mail|message)|authentication (checks? )?fail|fails? to pass (spf|dkim|authentication)|(?<![\d.])[45]\.7\.(2[0-4]|26|5(09|1[0-5]))(?!\d)", Options, TimeoutMs)]
    private static partial Regex AuthenticationRule();

    [GeneratedRegex(@"recipient address rejected: access denied|(?<![\d.])5\.4\.1 .{0,80}access denied", Options, TimeoutMs)]
    private static partial Regex DirectoryRejectionRule();

    [GeneratedRegex(@"black ?list|block ?list|deny ?list|(?<!not )listed (at|in|on|by)\b|\brbl\b|dnsbl|spamhaus|spamcop|\bsorbs\b|abuseat|barracudacentral|uceprotect|reputation|\bbanned\b|client host (\S+ )?(rejected|blocked)|(\bip\b|host|network|sender|domain)\b.{0,40}\b(blocked|banned|not allowed|blacklisted)|blocked (using|by|ip|for)|not (allowed|authori[sz]ed|permitted) to send|(sender|from) address (rejected|denied|refused|invalid)|\bsender\b.{0,40}\b(rejected|denied|refused|not allowed|verify failed)|unroutable sender|domain of sender|sender domain|mail from.{0,60}(rejected|refused|denied)|my name was rejected|invalid (helo|ehlo)|(helo|ehlo)\b.{0,40}\b(rejected|invalid|refused)|invalid domain name|reverse (dns|lookup)|\bptr\b|\brdns\b|relay(ing)? (access )?(denied|not permitted|prohibited|refused)|not (configured|permitted|allowed|authori[sz]ed) to relay|unable to relay|as a relay|do not relay|access denied|auth(entication)? required|(requires?|must use|does ?n[o']t support|not support) (tls|starttls|encryption|a secure)|tls (is )?required|\bstarttls\b|rate[- ]limit|too many (connections|messages|recipients|concurrent|sessions|mails|e-?mails)|frequency limit|connection rate|sending rate|at a rate that|throttl|(?<![\d.])[45]\.7\.25(?!\d)", Options, TimeoutMs)]
    private static partial Regex SenderBlockRule();

    [GeneratedRegex(@"not (rfc ?\d{3,4} )?compliant|\brfc ?(5322|2822|822) (violation|compliance|non-?compliant)|multiple\b.{0,40}\bheaders?\b|improper use of 8-bit|8-?bit data|header error|invalid (message )?header|malformed (message|header)|protocol violation", Options, TimeoutMs)]
    private static partial Regex MessageFormatRule();

    [GeneratedRegex(@"\bspam(my)?\b|spamming|\bUBE\b|unsolicited|bulk (e-?mail|mail)|junk ?mail|content (was )?(rejected|filtered|flagged)|message content|scored as|classified as|looks like|suspicious|phishing", Options, TimeoutMs)]
    private static partial Regex SpamContentRule();

    [GeneratedRegex(@"mail ?box (is )?full|mail ?box.{0,30}\b(full|over ?quota|exceeds?)|over ?quota|quota (exceeded|full|limit)|exceed(s|ed)?\b.{0,40}\b(quota|storage|size|allowed)|disk quota|insufficient (disk |system |mail )?(space|storage)|out of (disk )?(space|storage)|storage (allocation|limit|space|full)|not enough (disk )?(space|storage)|\bis full\b|full mail ?box|message (is )?too (large|big)|(message|mail) size.{0,40}(limit|exceed)|size limit|too (large|big) for|message length exceeds|line (length )?limit exceeded|recipsizelimit|(?<![\d.])[45]\.(2\.[23]|3\.[14])(?!\d)", Options, TimeoutMs)]
    private static partial Regex MailboxFullRule();

    [GeneratedRegex(@"bad (destination )?(mailbox )?address syntax|address syntax|syntax (error )?(in|of) (the )?(recipient |e-?mail |destination )?address|(invalid|malformed|illegal) (e-?mail )?address (syntax|format)|address (is )?malformed|(?<![\d.])5\.1\.3(?!\d)", Options, TimeoutMs)]
    private static partial Regex AddressSyntaxRule();

    [GeneratedRegex(@"user unknown|unknown user|(\buser|mail ?box|recipient|address|account|addressee)\b(?!@).{0,25}\b(unknown|not found|does ?n[o']t exist|not exist|no longer exists?|not known|invalid|unavailable|not available|not valid)|unknown (local[- ]?part|recipient|mail ?box|address|alias|account)|no such (user|mail ?box|recipient|address|account|local user|person)|invalid (recipient|mail ?box|user|address|destination)|not listed in|recipient name is not recognized|not (our|a local|a valid) (user|customer|recipient|mailbox)|unrouteable address|no mail ?box|recip(ient)?notfound|does ?n[o']t have an? (\S+ )?account|no longer (on (this |the )?server|in use|valid|active|available|employed|with)|not a registered|bad destination mail ?box|user (is )?not (local|found)|(account|mail ?box|\buser|address)\b(?!@).{0,60}\b(disabled|suspended|deactivated|discontinued|inactive|locked|closed|terminated|expired|cancell?ed)|(disabled|suspended|deactivated|inactive|closed) (account|mail ?box|user)|\[suspend\]", Options, TimeoutMs)]
    private static partial Regex UnknownRecipientRule();

    [GeneratedRegex(@"host (or domain name )?not found|host unknown|unknown host|could ?n[o']t find any host|no such (host|domain)|name ?service error|name server|domain (name )?(does ?n[o']t exist|not found|not exist|unknown)|domain\b.{0,40}\b(not found|does not exist|not reachable|unreachable)|no (mx|mail exchanger|dns|a record)|could ?n[o']t find a mail exchanger|\bdns\b|nxdomain|unrouteable mail domain|unable to route|\bmx (record|lookup)|null mx|does not accept (e-?)?mail|accepts no mail|routing loop|mail loop|too many hops", Options, TimeoutMs)]
    private static partial Regex DomainRule();

    [GeneratedRegex(@"gr[ae]y ?list", Options, TimeoutMs)]
    private static partial Regex GreylistRule();

    [GeneratedRegex(@"timed? ?out|time-?out|connection (refused|reset|lost|closed|dropped)|expired|retry time|queue too long|too long in (the )?queue|unable to connect|could ?n[o']t connect|no route to host|network is unreachable|lost connection|could not be delivered within", Options, TimeoutMs)]
    private static partial Regex ConnectionRule();

    [GeneratedRegex(@"polic(y|ies)|violation|not accepted|not allowed|not permitted|refused|rejected|denied|blocked|prohibited|forbidden|filtered", Options, TimeoutMs)]
    private static partial Regex RefusalRule();

    [GeneratedRegex(@"temporar|try again|deferred|delayed|later|busy|congest|resources|local error|system error|service (not available|unavailable)", Options, TimeoutMs)]
    private static partial Regex TemporaryRule();

}
