using System.Globalization;

namespace Mailroom.Mail.Dkim;

/// <summary>DKIM selectors (RFC 6376 §3.1): the label under <c>_domainkey</c> that names one key of a domain.</summary>
public static class DkimSelector
{
    /// <summary>
    /// Postmark's dated selector: the UTC time as <c>yyyyMMddHHmmss</c> followed by <c>pm</c>,
    /// e.g. <c>20261129051950pm</c> for 2026-11-29 05:19:50Z. The caller passes the time (no clock here).
    /// </summary>
    public static string FromTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "pm";

    /// <summary>
    /// True for a selector RFC 6376 §3.1 allows: one or more dot-separated labels of letters, digits and
    /// inner hyphens (RFC 5321 sub-domain), each at most 63 characters.
    /// </summary>
    public static bool IsValid(string? selector)
    {
        if (string.IsNullOrEmpty(selector) || selector.Length > 200)
            return false;
        foreach (var label in selector.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                    return false;
        }
        return true;
    }

    /// <summary>The DNS name a verifier queries for the key: <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c> (RFC 6376 §3.6.2.1).</summary>
    public static string DnsName(string selector, string domain) => $"{selector}._domainkey.{domain}";
}
