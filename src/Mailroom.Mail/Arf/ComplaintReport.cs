using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Arf;

/// <summary>How a complaint was reported.</summary>
public enum ComplaintFormat
{
    /// <summary>Not a complaint.</summary>
    None = 0,
    /// <summary>RFC 5965 Abuse Reporting Format: <c>multipart/report; report-type=feedback-report</c>.</summary>
    Arf,
    /// <summary>Microsoft JMRP (Junk Mail Reporting Program): the original message enclosed, recipient in <c>X-HmXmrOriginalRecipient</c>, no feedback-report part.</summary>
    MicrosoftJmrp,
    /// <summary>Amazon SES complaint notification (JSON).</summary>
    AmazonSes,
}

/// <summary>What <see cref="ArfParser"/> found in one message.</summary>
public sealed record ComplaintReport
{
    public required ComplaintFormat Format { get; init; }

    /// <summary>
    /// <see cref="BounceType.SpamComplaint"/> for every recognised report except <c>not-spam</c>
    /// (RFC 6650 §3, the opposite of a complaint), which is <see cref="BounceType.Unknown"/>;
    /// <see cref="BounceType.Unknown"/> when the message is not a complaint.
    /// </summary>
    public required BounceType Type { get; init; }

    /// <summary>
    /// RFC 5965 §3.1 <c>Feedback-Type</c>, lower case: abuse, fraud, virus, other, not-spam (RFC 6650),
    /// auth-failure (RFC 6591), or a provider's own value such as opt-out. "abuse" for JMRP reports,
    /// which carry no field.
    /// </summary>
    public string? FeedbackType { get; init; }

    /// <summary>
    /// The complaining recipients: RFC 5965 §3.2 <c>Original-Rcpt-To</c> values, else JMRP's
    /// <c>X-HmXmrOriginalRecipient</c>, else the <c>To</c> addresses of the enclosed original message.
    /// </summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    public string? OriginalMailFrom { get; init; }
    public string? UserAgent { get; init; }
    public string? Version { get; init; }

    /// <summary><c>Arrival-Date</c> (or the older <c>Received-Date</c>) as written: an RFC 5322 date-time.</summary>
    public string? ArrivalDate { get; init; }

    public string? SourceIp { get; init; }
    public string? OriginalEnvelopeId { get; init; }
    public IReadOnlyList<string> ReportedDomains { get; init; } = [];
    public IReadOnlyList<string> ReportedUris { get; init; } = [];

    /// <summary>RFC 6591 §3.1 <c>Auth-Failure</c> (dkim, spf, dmarc …) of auth-failure reports.</summary>
    public string? AuthFailure { get; init; }

    public OriginalMessage? Original { get; init; }

    public bool IsComplaint => Format != ComplaintFormat.None && Type == BounceType.SpamComplaint;

    /// <summary>
    /// Whether the recipients should be suppressed: true for complaints, except RFC 6591 auth-failure
    /// reports, which are DMARC/SPF/DKIM failure reports from the receiving system and not a person
    /// asking to stop the mail.
    /// </summary>
    public bool ShouldSuppress => IsComplaint && FeedbackType != "auth-failure";

    internal static ComplaintReport NotAComplaint { get; } = new() { Format = ComplaintFormat.None, Type = BounceType.Unknown };
}
