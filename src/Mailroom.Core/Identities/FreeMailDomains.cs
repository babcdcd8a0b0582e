using System.Collections.Frozen;
using Mailroom.Mail.Addresses;

namespace Mailroom.Core.Identities;

/// <summary>
/// Public mailbox providers (gmail.com, outlook.com, ...), whose addresses and domains an account may not register:
/// whoever owns a mailbox there does not own the domain, cannot publish DKIM for it, and mail sent "from" it through
/// us fails the provider's DMARC policy (RFC 7489). The list is the embedded <c>free-mail-domains.txt</c>.
/// A domain matches when it or any parent domain is listed (<c>mail.gmail.com</c> matches <c>gmail.com</c>), or
/// when a label of it is a listed family (<c>yahoo.*</c>) followed only by a public suffix such as <c>com</c>,
/// <c>co.uk</c> or <c>com.br</c> (the Public Suffix List of <see cref="OrganizationalDomain"/>, as DMARC reads it).
/// </summary>
public static class FreeMailDomains
{
    private static readonly (FrozenSet<string> Exact, FrozenSet<string> Families) List = Load();

    public static int Count => List.Exact.Count + List.Families.Count;

    public static bool Contains(string domain)
    {
        var labels = domain.Trim().TrimEnd('.').ToLowerInvariant().Split('.');
        for (var i = 0; i < labels.Length - 1; i++)
        {
            if (List.Exact.Contains(string.Join('.', labels[i..])))
                return true;
            if (List.Families.Contains(labels[i]) && OrganizationalDomain.IsPublicSuffix(string.Join('.', labels[(i + 1)..])))
                return true;
        }
        return false;
    }

    private static (FrozenSet<string>, FrozenSet<string>) Load()
    {
        using var stream = typeof(FreeMailDomains).Assembly.GetManifestResourceStream("Mailroom.Core.Identities.free-mail-domains.txt")
            ?? throw new InvalidOperationException("free-mail-domains.txt is not embedded in Mailroom.Core.");
        using var reader = new StreamReader(stream);
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var families = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            var entry = line.Split('#', 2)[0].Trim().ToLowerInvariant();
            if (entry.Length == 0)
                continue;
            if (entry.EndsWith(".*", StringComparison.Ordinal))
                families.Add(entry[..^2]);
            else
                exact.Add(entry);
        }
        return (exact.ToFrozenSet(), families.ToFrozenSet());
    }
}
