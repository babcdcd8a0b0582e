using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Recognises messages that are not delivery failures but still come back to the return path:
/// automatic replies (RFC 3834), challenge/response requests and address-change notices.
/// </summary>
internal static partial class AutoReplyDetector
{
    private const int BodyWindow = 8 * 1024;

    /// <summary>
    /// RFC 3834 §5.1 <c>Auto-Submitted: auto-replied</c>, the de-facto headers (<c>X-Autoreply</c>,
    /// <c>X-Autorespond</c>, <c>Precedence: auto_reply</c>, Apple's <c>X-Apple-Action: VACATION</c>),
    /// an out-of-office subject, or auto-generated mail (<c>Auto-Submitted: auto-generated</c>,
    /// <c>Precedence: bulk|junk</c>, null return path) whose text reads like an absence notice.
    /// </summary>
    public static bool IsAutoReply(MimeMessage message, string text)
    {
        var headers = message.Headers;
        var autoSubmitted = SmtpReplyText.Truncate(headers["Auto-Submitted"] ?? "", 200).Trim().ToLowerInvariant();
        if (autoSubmitted.StartsWith("auto-replied", StringComparison.Ordinal))
            return true;
        foreach (var name in (ReadOnlySpan<string>)["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation"])
            if (headers[name] is { } v && !v.Trim().Equals("no", StringComparison.OrdinalIgnoreCase))
                return true;
        var precedence = (headers["Precedence"] ?? headers["X-Precedence"] ?? "").Trim().ToLowerInvariant();
        if (precedence is "auto_reply" or "auto-reply")
            return true;
        if ((headers["X-Apple-Action"] ?? "").Contains("vacation", StringComparison.OrdinalIgnoreCase))
            return true;
        if (AutoReplySubject().IsMatch(TextBounceReader.SubjectOf(message)))
            return true;
        var generated = autoSubmitted.StartsWith("auto-", StringComparison.Ordinal) || precedence is "bulk" or "junk"
            || (headers["Return-Path"]?.Trim() is "<>" or "");
        return generated && AbsenceBody().IsMatch(Window(text));
    }

    /// <summary>Challenge/response systems: Bluebottle, Boxbe, Spam Arrest, MailFrontier and alike.</summary>
    public static bool IsChallenge(MimeMessage message, string text)
    {
        foreach (var header in message.Headers)
            if (header.Field.StartsWith("X-Bluebottle", StringComparison.OrdinalIgnoreCase)
                || header.Field.StartsWith("X-Boxbe", StringComparison.OrdinalIgnoreCase)
                || header.Field.StartsWith("X-Spamarrest", StringComparison.OrdinalIgnoreCase)
                || header.Field.StartsWith("X-Challenge", StringComparison.OrdinalIgnoreCase))
                return true;
        if (IsChallengeService(message))
            return true;
        return SmtpReplyClassifier.MatchText(Window(text)) == BounceType.ChallengeVerification && !TextBounceReader.LooksLikeNonDelivery(message, text);
    }

    /// <summary>The sender is a known challenge/response service (not the person it protects).</summary>
    public static bool IsChallengeService(MimeMessage message) =>
        message.From.Mailboxes.Any(from => ChallengeDomain().IsMatch(from.Domain ?? ""));

    /// <summary>A notice that the recipient moved to another address (not the RFC 3463 X.1.6 "mailbox has moved" failure).</summary>
    public static bool IsAddressChange(MimeMessage message, string text) =>
        AddressChangeText().IsMatch(TextBounceReader.SubjectOf(message)) || AddressChangeText().IsMatch(Window(text));

    private static string Window(string text) => text.Length <= BodyWindow ? text : text[..BodyWindow];

    [GeneratedRegex(@"auto(matic|matische|matyczna)?[ -]?(reply|response|responder|antwort|odpowied|r[ée]ponse|respuesta|risposta|resposta|svar)|out of (the )?office|\bOOO\b|away from (the |my )?(office|desk)|on (vacation|holiday|leave)|\bvacation\b|\babsen(t|ce)\b|abwesen|cong[ée]s|fuera de la oficina|\u81EA\u52D5\u5FDC\u7B54|\u4E0D\u5728|\u0410\u0432\u0442\u043E\u043E\u0442\u0432\u0435\u0442|away until",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex AutoReplySubject();

    [GeneratedRegex(@"\b(i am|i'm|i will be) (currently |now )?(out of (the )?office|away|on (annual )?(leave|vacation|holiday)|travel+ing|not in the office)|limited access to (my )?e-?mail|return(ing)? (to the office )?on|will respond (to you )?(upon|when|after) my return|back in the office",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex AbsenceBody();

    [GeneratedRegex(@"(^|\.)(boxbe\.com|bluebottle\.com|spamarrest\.com|mailfrontier\.com|sendio\.com)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ChallengeDomain();

    [GeneratedRegex(@"(e-?mail )?address (has )?changed|changed (my|his|her|their|our) (e-?mail )?address|(my|our) new (e-?mail )?address (is|will be)|no longer (use|using|monitor|monitoring) this (e-?mail )?address|this (e-?mail )?address is no longer (in use|monitored|active|valid|being monitored)|please update your (records|contacts?|address book)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex AddressChangeText();
}
