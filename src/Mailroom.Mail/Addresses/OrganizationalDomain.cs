namespace Mailroom.Mail.Addresses;

/// <summary>
/// The organizational domain of a host name (RFC 7489 §3.2): its public suffix, found with the Public Suffix List
/// (publicsuffix.org, the embedded <c>public_suffix_list.dat</c>, MPL-2.0, Debian's <c>publicsuffix</c> 20230209), plus one
/// label. "mail-yw1-f41.google.com" → "google.com", "a.b.example.co.uk" → "example.co.uk". Rules follow the list's
/// format: the longest matching rule wins, "*" matches one label, "!" marks an exception (its parent is the suffix),
/// and a name no rule matches has its last label as the suffix.
/// </summary>
public static class OrganizationalDomain
{
    private static readonly Lazy<Rules> List = new(Load);

    /// <summary>The organizational domain of <paramref name="host"/>, lower case; null for an empty name, an IP
    /// literal or a name that is itself a public suffix (e.g. "co.uk").</summary>
    public static string? Of(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
            return null;
        var name = host.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0 || name.Length > 253 || System.Net.IPAddress.TryParse(name, out _))
            return null;
        var labels = name.Split('.');
        if (labels.Any(l => l.Length == 0))
            return null;
        var suffixLength = List.Value.SuffixLabels(labels);
        return labels.Length > suffixLength ? string.Join('.', labels[^(suffixLength + 1)..]) : null;
    }

    /// <summary>True when <paramref name="name"/> is itself a public suffix ("com", "co.uk", "github.io").</summary>
    public static bool IsPublicSuffix(string name)
    {
        var labels = name.Trim().TrimEnd('.').ToLowerInvariant().Split('.');
        return labels.All(l => l.Length > 0) && List.Value.SuffixLabels(labels) == labels.Length;
    }

    private sealed class Rules(HashSet<string> exact, HashSet<string> wildcards, HashSet<string> exceptions)
    {
        /// <summary>How many trailing labels of <paramref name="labels"/> form the public suffix.</summary>
        public int SuffixLabels(string[] labels)
        {
            // Walk from the longest candidate down: the first (longest) matching rule is the prevailing one.
            for (var n = labels.Length; n >= 1; n--)
            {
                var candidate = string.Join('.', labels[^n..]);
                if (exceptions.Contains(candidate))
                    return n - 1; // "!city.kawasaki.jp": the suffix is "kawasaki.jp"
                if (exact.Contains(candidate))
                    return n;
                if (n >= 2 && wildcards.Contains(string.Join('.', labels[^(n - 1)..])))
                    return n; // "*.ck" matches "x.ck"
            }
            return 1; // the default rule "*"
        }
    }

    private static Rules Load()
    {
        using var stream = typeof(OrganizationalDomain).Assembly.GetManifestResourceStream("Mailroom.Mail.Addresses.public_suffix_list.dat")
            ?? throw new InvalidOperationException("public_suffix_list.dat is not embedded in Mailroom.Mail.");
        using var reader = new StreamReader(stream);
        HashSet<string> exact = new(StringComparer.Ordinal), wildcards = new(StringComparer.Ordinal), exceptions = new(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            // Each rule is the first whitespace-free run of a line; "//" starts a comment.
            var rule = line.Trim();
            var space = rule.IndexOfAny([' ', '\t']);
            if (space >= 0) rule = rule[..space];
            if (rule.Length == 0 || rule.StartsWith("//", StringComparison.Ordinal))
                continue;
            rule = ToAscii(rule);
            if (rule.StartsWith('!')) exceptions.Add(rule[1..]);
            else if (rule.StartsWith("*.", StringComparison.Ordinal)) wildcards.Add(rule[2..]);
            else exact.Add(rule);
        }
        return new Rules(exact, wildcards, exceptions);
    }

    private static readonly System.Globalization.IdnMapping Idn = new();

    /// <summary>Rules in Unicode are kept in their ASCII (punycode) form too, as host names arrive in DNS form.</summary>
    private static string ToAscii(string rule)
    {
        if (rule.All(c => c < 128))
            return rule.ToLowerInvariant();
        var prefix = rule.StartsWith('!') ? "!" : rule.StartsWith("*.", StringComparison.Ordinal) ? "*." : "";
        try { return prefix + Idn.GetAscii(rule[prefix.Length..]); }
        catch (ArgumentException) { return rule; }
    }
}
