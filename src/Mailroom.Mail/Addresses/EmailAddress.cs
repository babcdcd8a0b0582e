using MimeKit;

namespace Mailroom.Mail.Addresses;

/// <summary>Checks of single mailbox addresses (RFC 5322 addr-spec) as the API accepts them.</summary>
public static class EmailAddress
{
    /// <summary>True for one bare address <c>local@domain</c> with a dotted domain and no CR, LF or spaces.</summary>
    public static bool IsValid(string? address)
    {
        if (string.IsNullOrWhiteSpace(address) || address.Length > 254)
            return false;
        if (address.AsSpan().IndexOfAny("\r\n\t <>,;\"") >= 0)
            return false;
        if (!MailboxAddress.TryParse(ParserOptions.Default, address, out var mailbox))
            return false;
        var at = mailbox.Address.LastIndexOf('@');
        if (at <= 0 || at == mailbox.Address.Length - 1 || !string.Equals(mailbox.Address, address, StringComparison.Ordinal))
            return false;
        return IsValidDomain(mailbox.Address[(at + 1)..]);
    }

    /// <summary>A DNS host name with at least two labels, each 1–63 letters, digits or hyphens.</summary>
    public static bool IsValidDomain(string? domain)
    {
        if (string.IsNullOrEmpty(domain) || domain.Length > 253)
            return false;
        var labels = domain.Split('.');
        if (labels.Length < 2)
            return false;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var c in label)
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                    return false;
        }
        return !labels[^1].All(char.IsAsciiDigit);
    }

    /// <summary>Longest local part SMTP must accept: 64 octets (RFC 5321 §4.5.3.1.1).</summary>
    public const int MaxLocalPartLength = 64;

    /// <summary>The domain part, lower case.</summary>
    public static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..].ToLowerInvariant();

    /// <summary>The local part, as written (local parts are case-sensitive, RFC 5321 §2.4).</summary>
    public static string LocalPartOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? address : address[..at];
    }
}
