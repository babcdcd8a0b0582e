using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// An enhanced mail system status code, RFC 3463 §2: <c>class.subject.detail</c>, where class is
/// 2 (success), 4 (persistent transient failure) or 5 (permanent failure), and subject and detail are
/// 1–3 digit numbers (RFC 3463 §2 allows up to three digits each; Microsoft uses e.g. 5.7.606).
/// </summary>
public readonly partial record struct EnhancedStatusCode(int Class, int Subject, int Detail)
{
    /// <summary>RFC 3463 §3.1 "Other or undefined status" detail: X.0.0 carries no information beyond the class.</summary>
    public bool IsUndefined => Subject == 0 && Detail == 0;

    public bool IsSuccess => Class == 2;
    public bool IsTransient => Class == 4;
    public bool IsPermanent => Class == 5;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Class}.{Subject}.{Detail}");

    /// <summary>
    /// Parses a value that starts with a status code, as in a DSN <c>Status:</c> field (RFC 3464 §2.3.4),
    /// which may be followed by a comment: <c>5.0.0 (permanent failure)</c>.
    /// </summary>
    public static bool TryParse(string? text, out EnhancedStatusCode code)
    {
        code = default;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        var m = LeadingCode().Match(text);
        return m.Success && TryCreate(m, out code);
    }

    /// <summary>The first status code found anywhere in free text (diagnostics, NDR bodies), e.g. <c>550 5.1.1 user unknown</c> or qmail's <c>(#5.1.2)</c>.</summary>
    public static EnhancedStatusCode? Find(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return null;
        // As with reply codes: a failure status after transcript lines of success ("250 2.1.5 Ok") is the one reported.
        EnhancedStatusCode? first = null;
        var seen = 0;
        foreach (Match m in AnywhereCode().Matches(text))
        {
            if (++seen > 50)
                break;
            if (!TryCreate(m, out var code))
                continue;
            if (code.Class != 2)
                return code;
            first ??= code;
        }
        return first;
    }

    private static bool TryCreate(Match m, out EnhancedStatusCode code)
    {
        code = default;
        if (!int.TryParse(m.Groups["c"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var c)
            || !int.TryParse(m.Groups["s"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var s)
            || !int.TryParse(m.Groups["d"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var d))
            return false;
        if (c is not (2 or 4 or 5))
            return false;
        code = new EnhancedStatusCode(c, s, d);
        return true;
    }

    [GeneratedRegex(@"^\s*#?(?<c>[245])\.(?<s>\d{1,3})\.(?<d>\d{1,3})(?![\d.])", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex LeadingCode();

    // Not part of a longer dotted number (IP addresses, version strings such as 8.14.4/8.14.4).
    [GeneratedRegex(@"(?<![\w.])#?(?<c>[245])\.(?<s>\d{1,3})\.(?<d>\d{1,3})(?![\d]|\.\d)", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex AnywhereCode();
}
