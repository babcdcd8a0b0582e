using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Maps the corpus' reason vocabularies (sisimai reasons, Mail::DeliveryStatus::BounceParser
/// <c>std_reason</c>) onto Postmark bounce types. The mapping follows what each reason means, not what
/// the parser happens to return; it is documented (with the reasoning) in
/// src/Mailroom.Mail/Bounces/README.md. One type per reason.
/// </summary>
public static class SourceReasonMapping
{
    public static readonly IReadOnlyDictionary<string, BounceType> Map = new Dictionary<string, BounceType>(StringComparer.OrdinalIgnoreCase)
    {
        // The recipient mailbox is gone, unknown, disabled or moved: suppress.
        ["userunknown"] = BounceType.HardBounce,
        ["hasmoved"] = BounceType.HardBounce,
        ["suspend"] = BounceType.HardBounce,
        // Temporary mailbox or size problems.
        ["mailboxfull"] = BounceType.SoftBounce,
        ["mesgtoobig"] = BounceType.SoftBounce,
        ["exceedlimit"] = BounceType.SoftBounce,
        ["systemfull"] = BounceType.SoftBounce,
        // Gave up after retrying / remote system trouble.
        ["expired"] = BounceType.Transient,
        ["systemerror"] = BounceType.Transient,
        // The recipient domain cannot be resolved or accepts no mail.
        ["hostunknown"] = BounceType.DnsError,
        ["networkerror"] = BounceType.DnsError,
        ["notaccept"] = BounceType.DnsError,
        // Refused because of the sender, its IP, volume or the message's form: an ISP block.
        ["blocked"] = BounceType.Blocked,
        ["badreputation"] = BounceType.Blocked,
        ["requireptr"] = BounceType.Blocked,
        ["norelaying"] = BounceType.Blocked,
        ["toomanyconn"] = BounceType.Blocked,
        ["speeding"] = BounceType.Blocked,
        ["rejected"] = BounceType.Blocked,
        ["securityerror"] = BounceType.Blocked,
        ["failedstarttls"] = BounceType.Blocked,
        ["policyviolation"] = BounceType.Blocked,
        ["notcompliantrfc"] = BounceType.Blocked,
        ["contenterror"] = BounceType.Blocked,
        ["filtered"] = BounceType.Blocked,
        // Content judged to be spam or infected.
        ["spamdetected"] = BounceType.SpamNotification,
        ["virusdetected"] = BounceType.VirusNotification,
        // SPF / DKIM / DMARC failures.
        ["authfailure"] = BounceType.DMARCPolicy,
        ["vacation"] = BounceType.AutoResponder,
        ["feedback"] = BounceType.SpamComplaint,
        // Not a bounce, or a bounce nothing can be said about.
        ["delivered"] = BounceType.Unknown,
        ["onhold"] = BounceType.Unknown,
        ["undefined"] = BounceType.Unknown,
        ["mailererror"] = BounceType.Unknown,
        ["syntaxerror"] = BounceType.Unknown,

        // Mail::DeliveryStatus::BounceParser std_reason.
        ["user_unknown"] = BounceType.HardBounce,
        ["user_disabled"] = BounceType.HardBounce,
        ["over_quota"] = BounceType.SoftBounce,
        ["message_too_large"] = BounceType.SoftBounce,
        ["domain_error"] = BounceType.DnsError,
        ["spam"] = BounceType.SpamNotification,
    };
}
