namespace Mailroom.Core.Stats;

/// <summary>
/// Which mailbox provider holds a recipient's mail, for the per-provider stats (Mailroom only). The recipient's
/// domain decides for the providers' own consumer domains; the MX host that answered a delivery decides for domains
/// they host (Google Workspace, Microsoft 365, Yahoo and Apple's iCloud custom domains), so deliveries and SMTP-time
/// bounces of a company domain count under its real provider, while sends (before any MX lookup) count under its
/// domain's answer.
/// </summary>
public static class MailboxProviders
{
    private static readonly Dictionary<string, MailboxProvider> Domains = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gmail.com"] = MailboxProvider.Gmail, ["googlemail.com"] = MailboxProvider.Gmail,
        ["outlook.com"] = MailboxProvider.Microsoft, ["hotmail.com"] = MailboxProvider.Microsoft, ["live.com"] = MailboxProvider.Microsoft,
        ["msn.com"] = MailboxProvider.Microsoft, ["passport.com"] = MailboxProvider.Microsoft, ["hotmail.co.uk"] = MailboxProvider.Microsoft,
        ["hotmail.fr"] = MailboxProvider.Microsoft, ["hotmail.de"] = MailboxProvider.Microsoft, ["outlook.de"] = MailboxProvider.Microsoft,
        ["outlook.fr"] = MailboxProvider.Microsoft, ["live.co.uk"] = MailboxProvider.Microsoft, ["live.fr"] = MailboxProvider.Microsoft,
        ["yahoo.com"] = MailboxProvider.Yahoo, ["ymail.com"] = MailboxProvider.Yahoo, ["rocketmail.com"] = MailboxProvider.Yahoo,
        ["yahoo.co.uk"] = MailboxProvider.Yahoo, ["yahoo.fr"] = MailboxProvider.Yahoo, ["yahoo.de"] = MailboxProvider.Yahoo,
        ["yahoo.co.jp"] = MailboxProvider.Yahoo, ["aol.com"] = MailboxProvider.Yahoo, ["aim.com"] = MailboxProvider.Yahoo,
        ["icloud.com"] = MailboxProvider.Apple, ["me.com"] = MailboxProvider.Apple, ["mac.com"] = MailboxProvider.Apple,
    };

    /// <summary>MX host name suffixes of each provider (their published MX targets).</summary>
    private static readonly (string Suffix, MailboxProvider Provider)[] MxHosts =
    [
        (".google.com", MailboxProvider.Gmail), (".googlemail.com", MailboxProvider.Gmail),
        (".outlook.com", MailboxProvider.Microsoft), (".hotmail.com", MailboxProvider.Microsoft), (".protection.outlook.com", MailboxProvider.Microsoft),
        (".yahoodns.net", MailboxProvider.Yahoo), (".yahoo.com", MailboxProvider.Yahoo), (".aol.com", MailboxProvider.Yahoo),
        (".icloud.com", MailboxProvider.Apple), (".mail.me.com", MailboxProvider.Apple),
    ];

    public static MailboxProvider OfRecipient(string email)
    {
        var at = email.LastIndexOf('@');
        return at >= 0 && Domains.TryGetValue(email[(at + 1)..].Trim().TrimEnd('.'), out var p) ? p : MailboxProvider.Other;
    }

    /// <summary>The provider of the MX host that answered, or <see cref="MailboxProvider.Other"/>.</summary>
    public static MailboxProvider OfMxHost(string? host)
    {
        if (string.IsNullOrWhiteSpace(host))
            return MailboxProvider.Other;
        var h = "." + host.Trim().TrimEnd('.').ToLowerInvariant();
        foreach (var (suffix, provider) in MxHosts)
            if (h.EndsWith(suffix, StringComparison.Ordinal))
                return provider;
        return MailboxProvider.Other;
    }

    /// <summary>The recipient's domain decides when it names a provider; otherwise the MX host.</summary>
    public static MailboxProvider Of(string email, string? mxHost) =>
        OfRecipient(email) is var p and not MailboxProvider.Other ? p : OfMxHost(mxHost);

    public static bool TryParse(string value, out MailboxProvider provider) =>
        Enum.TryParse(value, ignoreCase: true, out provider) && !int.TryParse(value, out _);
}
