using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Reads non-standard, human-readable non-delivery reports: Exim ("This message was created
/// automatically by mail delivery software"), qmail ("Hi. This is the qmail-send program"), Postfix
/// and Sendmail without a DSN, Gmail, Yahoo, Exchange 2003 ("did not reach the following recipient(s)"),
/// Lotus Domino/Notes, OpenSMTPD, IMail, GMX/1&amp;1, Zoho and alike. It locates each failed recipient in
/// the text and takes the paragraph from there to the next recipient as that recipient's diagnostic.
/// </summary>
internal static partial class TextBounceReader
{
    private const int MaxParagraph = 4000;

    internal sealed record Paragraph(string Email, string? Text);

    /// <summary>True when the message reads like a non-delivery report.</summary>
    public static bool LooksLikeNonDelivery(MimeMessage message, string report)
    {
        if (message.Headers.Contains("X-Failed-Recipients"))
            return true;
        var head = report.Length <= 8192 ? report : report[..8192];
        if (StrongBodySignal().IsMatch(head))
            return true;
        var signals = 0;
        if (IsDaemonSender(message))
            signals++;
        if (NdrSubject().IsMatch(SubjectOf(message)))
            signals++;
        if (NdrBody().IsMatch(head))
            signals++;
        return signals >= 2;
    }

    /// <summary>The decoded subject, cut to one RFC 5322 line (998 characters), so hostile headers cost little.</summary>
    public static string SubjectOf(MimeMessage message)
    {
        try
        {
            return SmtpReplyText.Truncate(message.Subject ?? "", 998);
        }
        catch (Exception)
        {
            return "";
        }
    }

    /// <summary>Mailer-daemon, postmaster or "Mail Delivery System" senders (RFC 3464 §2 recommends the null reverse-path for DSNs).</summary>
    public static bool IsDaemonSender(MimeMessage message)
    {
        foreach (var from in message.From.Mailboxes)
        {
            var local = from.LocalPart ?? "";
            if (local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase)
                || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase)
                || local.Equals("mailer_daemon", StringComparison.OrdinalIgnoreCase)
                || local.Equals("post_master", StringComparison.OrdinalIgnoreCase)
                || (from.Name ?? "").Contains("mail delivery", StringComparison.OrdinalIgnoreCase)
                || (from.Name ?? "").Contains("mailer-daemon", StringComparison.OrdinalIgnoreCase)
                || (from.Name ?? "").Contains("postmaster", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Google Groups' refusal of a post: the group does not exist or the sender may not post to it. Google writes
    /// the notice in the poster's language, with no SMTP reply and no status code, so the wording cannot be matched;
    /// every version comes from Google's mailer-daemon and links the Groups help centre. Read as the group's refusal
    /// (Blocked) when nothing more specific was found.
    /// </summary>
    public static bool IsGoogleGroupsRefusal(MimeMessage message, string report) =>
        message.From.Mailboxes.Any(m => IsDaemonSender(message) && (m.Domain.Equals("googlemail.com", StringComparison.OrdinalIgnoreCase) || m.Domain.Equals("google.com", StringComparison.OrdinalIgnoreCase)))
        && report.Contains("groups.google.com/support", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A mailing-list manager's refusal of a post because the sender is not a member or may not post (fml, Mailman,
    /// Sympa, Majordomo …): the list (RFC 2369 <c>List-*</c>, RFC 2919 <c>List-Id</c>, or a list server's own header)
    /// answers from its administrative address (<c>-admin</c>, <c>-owner</c>, <c>-request</c>, <c>-bounces</c>,
    /// <c>-ctl</c>) and says so. The sender was refused, not a mailbox: Blocked.
    /// </summary>
    public static bool IsListPostingRefusal(MimeMessage message, string report)
    {
        var fromList = message.Headers.Any(h => h.Field.StartsWith("List-", StringComparison.OrdinalIgnoreCase)
                || h.Field.Equals("X-MLServer", StringComparison.OrdinalIgnoreCase) || h.Field.Equals("X-ML-Name", StringComparison.OrdinalIgnoreCase)
                || h.Field.Equals("X-Mailman-Version", StringComparison.OrdinalIgnoreCase) || h.Field.Equals("X-Sympa-To", StringComparison.OrdinalIgnoreCase))
            || message.From.Mailboxes.Any(m => ListServerLocalPart().IsMatch(m.LocalPart ?? ""));
        if (!fromList || !message.From.Mailboxes.Any(m => ListAdminLocalPart().IsMatch(m.LocalPart ?? "")))
            return false;
        var head = report.Length <= 8192 ? report : report[..8192];
        return NotAMember().IsMatch(SubjectOf(message)) || NotAMember().IsMatch(head);
    }

    /// <summary>A delay warning rather than a final failure.</summary>
    public static bool LooksLikeDelay(string? subject, string report)
    {
        var head = report.Length <= 8192 ? report : report[..8192];
        if (PermanentWording().IsMatch(head))
            return false;
        return DelaySubject().IsMatch(subject ?? "") || DelayBody().IsMatch(head);
    }

    /// <summary>
    /// The failed recipients and their paragraphs. <paramref name="known"/> (e.g. from
    /// <c>X-Failed-Recipients</c> or DSN fields) wins over addresses found in the text.
    /// </summary>
    public static List<Paragraph> Read(string report, IReadOnlyList<string> known, BounceAddresses.Exclusions excluded)
    {
        List<(string Address, int Index)> located;
        if (known.Count > 0)
            located = [.. known.Select(a => (a, IndexOfAddress(report, a)))];
        else
            located = BounceAddresses.FindIn(report, excluded);

        // Every mention of every located address: a recipient's paragraph ends where another recipient is named,
        // also in a second listing of the same failures (Mail.ru and Exim repeat the list in two languages).
        var ordered = new List<(string Address, int Index)>();
        foreach (var (address, first) in located.Where(l => l.Index >= 0))
            for (int at = first, n = 0; at >= 0 && n < 20; n++, at = NextIndexOfAddress(report, address, at + address.Length))
                ordered.Add((address, at));
        ordered.Sort((x, y) => x.Index.CompareTo(y.Index));
        var result = new List<Paragraph>();
        foreach (var (address, index) in located)
        {
            if (index < 0)
            {
                result.Add(new Paragraph(address, null));
                continue;
            }
            var lineStart = report.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
            if (index == 0)
                lineStart = 0;
            var next = ordered.FirstOrDefault(o => o.Index > index && !o.Address.Equals(address, StringComparison.OrdinalIgnoreCase));
            var end = next.Address is null ? report.Length : report.LastIndexOf('\n', Math.Max(0, next.Index - 1)) + 1;
            if (end <= lineStart)
                end = Math.Min(report.Length, next.Address is null ? report.Length : next.Index);
            var text = report[lineStart..Math.Max(lineStart, end)];
            result.Add(new Paragraph(address, SmtpReplyText.Truncate(text, MaxParagraph)));
        }
        return result;
    }

    /// <summary>The paragraph of a single <paramref name="recipient"/> in a DSN's human-readable part, if it is mentioned.</summary>
    public static string? ParagraphFor(string report, string recipient) =>
        string.IsNullOrWhiteSpace(recipient) ? null : Read(report, [recipient], BounceAddresses.Exclusions.None).FirstOrDefault()?.Text;

    /// <summary>Case-insensitive position of an address that is not part of a longer address; -1 if absent.</summary>
    public static int IndexOfAddress(string text, string address) => NextIndexOfAddress(text, address, 0);

    private static int NextIndexOfAddress(string text, string address, int from)
    {
        if (string.IsNullOrEmpty(address))
            return -1;
        while (from < text.Length)
        {
            var i = text.IndexOf(address, from, StringComparison.OrdinalIgnoreCase);
            if (i < 0)
                return -1;
            var before = i > 0 ? text[i - 1] : ' ';
            var after = i + address.Length < text.Length ? text[i + address.Length] : ' ';
            if (!IsAddressChar(before) && !(IsAddressChar(after) && after != '.'))
                return i;
            from = i + 1;
        }
        return -1;
    }

    private static bool IsAddressChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+' or '@' or '%';

    [GeneratedRegex(@"mail delivery software|qmail-send program|delivery to the following recipients? (failed|has been delayed)|did not reach the following recipient|could not be delivered to one or more|i'?m sorry to have to inform you that your message could not|this is the mail system at host|an error has occurred while attempting to deliver|wasn'?t able to deliver your message|unable to deliver (your )?message to the following|was not delivered to:|could not be delivered to:|delivery has failed to these recipients|the following addresses had permanent fatal errors|transcript of session follows|mailer-daemon, please do not reply|your message could not be delivered|following recipient\(s\) could not be reached|delivery failure report|mail delivery failed",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex StrongBodySignal();

    [GeneratedRegex(@"undeliver|not delivered|delivery (status notification|failure|failed|has failed|problem|notification|report|error)|returned mail|returning message|failure notice|failed delivery|mail system error|mail failure|non-?delivery|delayed mail|could not (be )?deliver|returned to sender|delivery failed|nondeliverable|could not send (mail|message)|unzustellbar|non remis|no entregado|niet bezorgd|onbestelbaar|\u30E1\u30FC\u30EB\u30A8\u30E9\u30FC|\u914D\u4FE1\u30A8\u30E9\u30FC",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex NdrSubject();

    [GeneratedRegex(@"could ?n[o']t be delivered|was not delivered|not be delivered|did not reach|undeliverable|unable to deliver|could not deliver|failed permanently|permanent (fatal )?error|has been delayed|temporary failure|non-?delivery|returned mail|remote host said|smtp error|server message|user unknown|unknown user|not listed in|failure reasons|delivery failure|error delivering|delivery errors?\b|requested (mail )?action not taken",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex NdrBody();

    /// <summary>Local parts of the list servers' own addresses (Mailman, Sympa, Majordomo, LISTSERV, fml, Ecartis, mlmmj).</summary>
    private const string ListServers = "mailman|sympa|majordomo|listserv|fml|ecartis|mlmmj";

    [GeneratedRegex(@"(-|^)(admin|owner|request|bounces?|ctl|approval)$|^(" + ListServers + ")$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ListAdminLocalPart();

    [GeneratedRegex("^(" + ListServers + ")$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ListServerLocalPart();

    [GeneratedRegex(@"\bnot (a )?(member|subscriber|subscribed)\b|\bnon-?members?\b|\bmembers[- ]only\b|only (list )?(members|subscribers) (may|can|are allowed to) (post|send)|(not (allowed|permitted|authori[sz]ed)|no permission) to (post|send (mail |messages )?to (this|the) (list|group))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex NotAMember();

    [GeneratedRegex(@"\(delay\)|delayed|warning|not yet (been )?delivered|still being retried", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex DelaySubject();

    [GeneratedRegex(@"has been delayed|warning message only|will be retried|will retry|still trying|delivery attempts will continue|has not yet been delivered|not been delivered yet|is delayed|temporarily deferred", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex DelayBody();

    [GeneratedRegex(@"failed permanently|permanent (fatal )?error|permanent failure|i'?ve given up|not going to try again|could not be delivered", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex PermanentWording();
}
