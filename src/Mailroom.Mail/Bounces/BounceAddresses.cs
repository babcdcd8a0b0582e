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

    /// <summary>Addresses in <paramref name="text"/>, in order of first appearance, minus <paramref name="excluded"/> and addresses inside URLs.</summary>
    public static List<(string Address, int Index)> FindIn(string text, ISet<string> excluded)
    {
        var found = new List<(string, int)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in AddressPattern().Matches(text))
        {
            if (found.Count >= MaxCandidates)
                break;
            var address = m.Value;
            if (excluded.Contains(address) || IsDaemon(address) || InsideUrl(text, m.Index) || !seen.Add(address))
                continue;
            found.Add((address, m.Index));
        }
        return found;
    }

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
