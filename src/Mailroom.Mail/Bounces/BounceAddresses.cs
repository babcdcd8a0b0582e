using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>Addresses in bounce texts and headers.</summary>
internal static partial class BounceAddresses
{
    public const int MaxCandidates = 100;

    /// <summary>A practical addr-spec (RFC 5322 §3.4.1 dot-atom local part) with a dotted domain ending in letters (one-letter labels occur in anonymised samples).</summary>
    [GeneratedRegex(@"(?<![\w.!#$%&'*+/=?^`{|}~-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{1,24}(?![\w-])",
        RegexOptions.CultureInvariant, 1000)]
    public static partial Regex AddressPattern();

    /// <summary>
    /// Addresses known not to be (<see cref="Own"/>) or unlikely to be (<see cref="Demoted"/>) the failed recipient:
    /// the notice's own sender addresses are never it; the bounce's To/Delivered-To (normally the return path,
    /// but a forwarded or direct bounce may be addressed to the failed recipient itself) only when nothing else is found.
    /// </summary>
    public sealed record Exclusions(ISet<string> Own, ISet<string> Demoted)
    {
        public static Exclusions None => new(new HashSet<string>(), new HashSet<string>());
    }

    /// <summary>
    /// Candidate failed recipients in <paramref name="text"/>, in order of first appearance. Never the notice's
    /// own addresses, daemons, addresses inside URLs or message ids, nor contact addresses the notice offers
    /// ("please contact &lt;postmaster@…&gt;"); addresses of <see cref="Exclusions.Demoted"/> and role
    /// mailboxes (postmaster, abuse, support …) only when no other address is found.
    /// </summary>
    public static List<(string Address, int Index)> FindIn(string text, Exclusions exclusions)
    {
        var found = new List<(string, int)>();
        var fallback = new List<(string, int)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in AddressPattern().Matches(text))
        {
            if (found.Count >= MaxCandidates)
                break;
            var address = m.Value;
            if (exclusions.Own.Contains(address) || IsDaemon(address) || InsideUrl(text, m.Index) || IsMessageId(text, m.Index, address) || IsExpandedFrom(text, m.Index) || !seen.Add(address))
                continue;
            if (exclusions.Demoted.Contains(address) || IsRole(address) || IsOfferedContact(text, m.Index))
                fallback.Add((address, m.Index));
            else
                found.Add((address, m.Index));
        }
        return found.Count > 0 ? found : fallback;
    }

    /// <summary>Role mailboxes of the reporting site (RFC 2142) that a notice names as its contact.</summary>
    public static bool IsRole(string address)
    {
        var at = address.IndexOf('@');
        var local = at > 0 ? address[..at] : address;
        return local.ToLowerInvariant() is "postmaster" or "hostmaster" or "abuse" or "noc" or "security" or "support" or "help" or "helpdesk" or "webmaster" or "root";
    }

    /// <summary>The address follows "please contact", "send mail to" … on its line: the notice's helpdesk, not the failed recipient.</summary>
    private static bool IsOfferedContact(string text, int index)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var start = Math.Max(lineStart, index - 80);
        return ContactLeadIn().IsMatch(text.AsSpan(start, index - start));
    }

    /// <summary>
    /// Postfix names an alias's target as "&lt;final@…&gt; (expanded from &lt;alias@…&gt;): reason": the address after
    /// "expanded from" is the one the message was sent to, already reported through its expansion, not a second recipient.
    /// </summary>
    private static bool IsExpandedFrom(string text, int index)
    {
        var start = Math.Max(0, index - 30);
        return ExpandedFromLeadIn().IsMatch(text.AsSpan(start, index - start));
    }

    [GeneratedRegex(@"\(expanded\s+from\s*<?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ExpandedFromLeadIn();

    /// <summary>A Message-ID (RFC 5322 §3.6.4 msg-id looks like an address): after a Message-ID/References label, or a timestamp-like local part.</summary>
    private static bool IsMessageId(string text, int index, string address)
    {
        var lineStart = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var start = Math.Max(lineStart, index - 40);
        return MessageIdLeadIn().IsMatch(text.AsSpan(start, index - start)) || MessageIdLocalPart().IsMatch(address)
            || OnTraceHeader(text, lineStart);
    }

    /// <summary>
    /// The line is a quoted sender/trace header, or a folded continuation of one (RFC 5322 §2.2.3: a field body goes on
    /// over lines that begin with white space, as Received fields do, e.g. "(envelope-from" on one line and the
    /// address on the next).
    /// </summary>
    private static bool OnTraceHeader(string text, int lineStart)
    {
        for (var n = 0; n < 12; n++)
        {
            if (TraceHeaderLine().IsMatch(text.AsSpan(lineStart, Math.Min(text.Length - lineStart, 40))))
                return true;
            // Only a continuation line (starting with white space, not blank) belongs to the field above it.
            if (lineStart == 0 || lineStart >= text.Length || text[lineStart] is not (' ' or '\t') || string.IsNullOrWhiteSpace(LineAt(text, lineStart)))
                return false;
            lineStart = text.LastIndexOf('\n', Math.Max(0, lineStart - 2)) + 1;
        }
        return false;
    }

    private static string LineAt(string text, int lineStart)
    {
        var end = text.IndexOf('\n', lineStart);
        return end < 0 ? text[lineStart..] : text[lineStart..end];
    }

    [GeneratedRegex(@"(contact|send (an? )?(e-?)?mail to|write to|e-?mail us at|reach (us|the administrator) at|assistance[^\n]{0,40}\bto|administrator)\W{0,5}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ContactLeadIn();

    [GeneratedRegex(@"(message-?id|msg-?id|references|in-reply-to|envelope-from)\W{0,5}$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex MessageIdLeadIn();

    /// <summary>A header line of a quoted message naming its sender or transport (RFC 5322 §3.6.2, §3.6.7), not a recipient.</summary>
    [GeneratedRegex(@"^\s*(delivered-to|return-path|received|from|sender|reply-to|message-id|x-original-to|x-envelope-from)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex TraceHeaderLine();

    [GeneratedRegex(@"^\d{8,}\.[^@]*@", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex MessageIdLocalPart();

    /// <summary>Mailer-daemon style local parts never are the bounced recipient.</summary>
    public static bool IsDaemon(string address)
    {
        var at = address.IndexOf('@');
        var local = at > 0 ? address[..at] : address;
        return local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase)
            || local.Equals("mailer_daemon", StringComparison.OrdinalIgnoreCase);
    }

    private static bool InsideUrl(string text, int index)
    {
        if (index > 0 && text[index - 1] is '=' or '/' or '?' or '&' or '%')
            return true;
        var lineStart = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var before = text.AsSpan(lineStart, index - lineStart);
        var lastSpace = before.LastIndexOfAny(' ', '\t');
        var word = lastSpace >= 0 ? before[(lastSpace + 1)..] : before;
        return word.Contains("://", StringComparison.Ordinal);
    }

    /// <summary>Addresses of one header list field (To, From, …), tolerant of junk.</summary>
    public static IEnumerable<string> OfHeader(HeaderList headers, string field)
    {
        foreach (var header in headers)
        {
            if (!header.Field.Equals(field, StringComparison.OrdinalIgnoreCase))
                continue;
            string value;
            try
            {
                value = header.Value ?? "";
            }
            catch (Exception)
            {
                continue;
            }
            if (value.Length > 4096)
                value = value[..4096];
            foreach (Match m in AddressPattern().Matches(value))
                yield return m.Value;
        }
    }
}
