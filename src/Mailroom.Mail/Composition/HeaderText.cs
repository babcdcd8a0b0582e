namespace Mailroom.Mail.Composition;

/// <summary>Character checks for text that ends up in a header field (RFC 5322 §2.2, §3.2).</summary>
static class HeaderText
{
    /// <summary>
    /// The first character that must not appear in a header value: CR or LF (which would end the field
    /// and let the caller inject headers or a body) or another control character (RFC 5322 §3.2.5 allows
    /// only VCHAR and WSP). HTAB is allowed.
    /// </summary>
    public static char? FindControl(string value)
    {
        foreach (var c in value)
            if ((char.IsControl(c) && c != '\t') || c is '\u2028' or '\u2029')
                return c;
        return null;
    }

    public static string Describe(char c) => HeaderRules.Describe(c);

    /// <summary>RFC 5322 §3.6.8 field name: one or more printable US-ASCII characters except colon (ftext).</summary>
    public static bool IsFieldName(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return false;
        foreach (var c in name)
            if (c is < '!' or > '~' or ':')
                return false;
        return true;
    }

    /// <summary>Length of the longest run of non-whitespace characters: a run longer than a line cannot be folded (RFC 5322 §2.2.3).</summary>
    public static int LongestWord(string value)
    {
        int longest = 0, current = 0;
        foreach (var c in value)
        {
            current = c is ' ' or '\t' ? 0 : current + 1;
            longest = Math.Max(longest, current);
        }
        return longest;
    }

    public static bool IsAscii(string value) => System.Text.Ascii.IsValid(value);
}
