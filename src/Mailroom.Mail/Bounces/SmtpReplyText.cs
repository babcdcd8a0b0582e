using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>Finding SMTP reply codes in free text and tidying diagnostics for display.</summary>
internal static partial class SmtpReplyText
{
    /// <summary>
    /// The basic SMTP reply code (RFC 5321 §4.2; non-standard second digits such as Exchange's 571 are
    /// accepted when paired or introduced) in a diagnostic or NDR paragraph: first one paired with an
    /// enhanced status (<c>550 5.1.1</c>, <c>550-'5.7.1</c>), else one introduced by a known lead-in
    /// (<c>said:</c>, <c>&lt;&lt;&lt;</c>, <c>smtp;</c> …), else a 4xx/5xx number standing alone.
    /// </summary>
    public static int? FindSmtpCode(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        // A transcript ("Out: 250 2.1.5 Ok ... Out: 451 4.3.0 Error") holds the successful replies before the failing
        // one; the notice reports the failure, so the first 4xx/5xx reply of a pattern wins over an earlier 2xx/3xx.
        foreach (var find in (ReadOnlySpan<Func<string, Match>>)[PairedCode().Match, LeadInCode, BareCode().Match])
        {
            int? first = null;
            var m = find(text);
            for (var seen = 0; m.Success && seen < MaxRepliesScanned; seen++, m = m.NextMatch())
            {
                if (!int.TryParse(m.Groups["code"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var code))
                    continue;
                if (code >= 400)
                    return code;
                first ??= code;
            }
            if (first is not null)
                return first;
        }
        return null;
    }

    private const int MaxRepliesScanned = 50;

    /// <summary>Where the remote server's reply starts in a paragraph: the line of the first reply code or enhanced status; -1 if none.</summary>
    public static int ReplyStart(string text)
    {
        var best = -1;
        foreach (var find in (ReadOnlySpan<Func<string, Match>>)[PairedCode().Match, LeadInCode, StatusAnywhere().Match])
        {
            var m = find(text);
            if (m.Success && (best < 0 || m.Index < best))
                best = m.Index;
        }
        return best < 0 ? -1 : text.LastIndexOf('\n', Math.Max(0, best - 1)) + 1;
    }

    /// <summary>
    /// One line of text: whitespace collapsed, and the repeated continuation prefixes of a multi-line
    /// reply (<c>550-5.7.1 ... 550-5.7.1 ...</c>, RFC 5321 §4.2.1) removed after the first.
    /// </summary>
    public static string Tidy(string text, int maxLength = 2000)
    {
        if (text.Length > maxLength * 4)
            text = text[..(maxLength * 4)];
        var collapsed = Whitespace().Replace(text, " ").Trim();
        var first = PairedCode().Match(collapsed);
        if (first.Success)
        {
            var tail = collapsed[(first.Index + first.Length)..];
            tail = Continuation().Replace(tail, " ");
            collapsed = collapsed[..(first.Index + first.Length)] + Whitespace().Replace(tail, " ");
        }
        return collapsed.Length <= maxLength ? collapsed : collapsed[..maxLength];
    }

    /// <summary>Strips an RFC 3464 §2.1.2 type prefix (<c>rfc822;</c>, <c>dns;</c>, <c>smtp;</c>) and returns (type, value).</summary>
    public static (string? Type, string Value) SplitTyped(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
            return (null, "");
        var unfolded = Whitespace().Replace(field, " ").Trim();
        var semi = unfolded.IndexOf(';');
        if (semi > 0 && semi < 40 && TypeName().IsMatch(unfolded.AsSpan(0, semi)))
            return (unfolded[..semi].Trim(), unfolded[(semi + 1)..].Trim());
        return (null, unfolded);
    }

    /// <summary>An address as written in a field or text, without angle brackets, quotes and trailing punctuation.</summary>
    public static string CleanAddress(string value)
    {
        var s = value.Trim().Trim('<', '>', '"', '\'', ' ', '\t').TrimEnd('.', ',', ';', ':');
        if (s.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
            s = s[7..];
        return s.Trim('<', '>');
    }

    public static string StripHtml(string html)
    {
        var noScripts = ScriptOrStyle().Replace(html, " ");
        var breaks = BlockTag().Replace(noScripts, "\n");
        var text = Tag().Replace(breaks, "");
        return System.Net.WebUtility.HtmlDecode(text);
    }

    public static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    public static string JoinLines(IEnumerable<string> lines)
    {
        var sb = new StringBuilder();
        foreach (var line in lines)
            sb.Append(line).Append('\n');
        return sb.ToString();
    }

    [GeneratedRegex(@"(?<![\w.])(?<code>[245]\d\d)[ -]+['""]?#?[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d)", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex PairedCode();

    /// <summary>
    /// The first reply code at a line start (after blanks) or after a lead-in word, whichever comes first. Two patterns:
    /// as one alternation the engine was quadratic on a long run of blanks (190,000 tabs took over a second), and at a
    /// line start "^\s*" crossed line breaks (100,000 empty lines: the same). Each pattern alone is linear.
    /// </summary>
    private static Match LeadInCode(string text)
    {
        var atLineStart = LineStartCode().Match(text);
        var afterWord = LeadInWordCode().Match(text);
        return !atLineStart.Success ? afterWord
            : !afterWord.Success || atLineStart.Index <= afterWord.Index ? atLineStart : afterWord;
    }

    [GeneratedRegex(@"^[ \t]*['""(\[]?(?<code>[245]\d\d)(?![\d.])", RegexOptions.CultureInvariant | RegexOptions.Multiline, 1000)]
    private static partial Regex LineStartCode();

    [GeneratedRegex(@"(?:\bsaid:?|returned was:|<<<|error_code\s*:|\breason:|\berror:|\breply:|\bresponse:|\bsmtp;|\bcode:?)\s*['""(\[]?(?<code>[245]\d\d)(?![\d.])", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.Multiline, 1000)]
    private static partial Regex LeadInWordCode();

    [GeneratedRegex(@"(?<=^|[\s(\[])(?<code>[45][0-5]\d)(?=[\s:\-\])]|$)(?![\d.])", RegexOptions.CultureInvariant | RegexOptions.Multiline, 1000)]
    private static partial Regex BareCode();

    [GeneratedRegex(@"(?<![\w.])\(?#?[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d)", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex StatusAnywhere();

    [GeneratedRegex(@"\s[245][0-5]\d[ -][245]\.\d{1,3}\.\d{1,3}\s", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Continuation();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^\s*[A-Za-z][A-Za-z0-9_.-]*\s*$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex TypeName();

    // The HTML patterns must be linear: a bounce's HTML part holds up to 256 K characters, and with "<script" or "<br"
    // repeated and never closed, each occurrence rescanned the rest of the text (quadratic, past the 1 s timeout).
    // Script and style elements: the non-backtracking engine (no back-reference, so the two names are spelled out).
    private static readonly Regex ScriptOrStyleElement = new(@"<script\b.*?</script\s*>|<style\b.*?</style\s*>",
        RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1));

    private static Regex ScriptOrStyle() => ScriptOrStyleElement;

    // A tag stops at the next "<": a scan from one "<" never crosses another, so no character is scanned twice.
    [GeneratedRegex(@"<\s*(br|/p|/div|/tr|/li|/h\d)\b[^<>]*>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex BlockTag();

    [GeneratedRegex(@"<[^<>]{0,2000}>", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Tag();
}
