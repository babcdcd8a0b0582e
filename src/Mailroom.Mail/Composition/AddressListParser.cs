using System.Diagnostics.CodeAnalysis;
using System.Text;
using Mailroom.Mail.Addresses;

namespace Mailroom.Mail.Composition;

/// <summary>
/// Parses the API's address-list strings (<c>To</c>, <c>Cc</c>, <c>Bcc</c>, <c>ReplyTo</c>): comma-separated
/// entries, each a bare address, <c>Name &lt;address&gt;</c>, <c>"Quoted, Name" &lt;address&gt;</c> or <c>&lt;address&gt;</c>
/// (the name-addr and addr-spec forms of RFC 5322 §3.4). Commas inside double quotes, angle brackets or
/// parenthesised comments do not split. Empty entries (a trailing comma) are ignored. Group syntax and
/// RFC 2047 encoded names are not understood: the API takes names as plain Unicode.
/// </summary>
public static class AddressListParser
{
    /// <summary>The addresses in <paramref name="value"/>; an empty list for null or blank. Throws <see cref="CompositionException"/> naming <paramref name="field"/>.</summary>
    public static IReadOnlyList<NamedAddress> Parse(string? value, string field) =>
        TryParse(value, field, out var addresses, out var error) ? addresses : throw error;

    /// <summary>Like <see cref="Parse"/>, returning the error instead of throwing it.</summary>
    public static bool TryParse(string? value, string field, out IReadOnlyList<NamedAddress> addresses, [NotNullWhen(false)] out CompositionException? error)
    {
        ArgumentNullException.ThrowIfNull(field);
        addresses = [];
        error = null;
        if (string.IsNullOrWhiteSpace(value))
            return true;

        var list = new List<NamedAddress>();
        foreach (var entry in Split(value))
        {
            if (!TryParseEntry(entry, field, out var address, out error))
                return false;
            list.Add(address);
        }
        addresses = list;
        return true;
    }

    /// <summary>
    /// How many entries the lists hold together, without validating them (for a recipient limit checked
    /// before parsing). Null or blank lists count 0.
    /// </summary>
    public static int CountRecipients(params ReadOnlySpan<string?> lists)
    {
        var count = 0;
        foreach (var list in lists)
            if (!string.IsNullOrWhiteSpace(list))
                count += Split(list).Count;
        return count;
    }

    /// <summary>The non-empty, trimmed entries between top-level commas.</summary>
    static List<string> Split(string value)
    {
        var entries = new List<string>();
        bool inQuotes = false, escaped = false, inAngle = false;
        int commentDepth = 0, start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (escaped)
            {
                escaped = false;
                continue;
            }
            if (inQuotes)
            {
                if (c == '\\')
                    escaped = true;
                else if (c == '"')
                    inQuotes = false;
                continue;
            }
            if (commentDepth > 0)
            {
                if (c == '\\')
                    escaped = true;
                else if (c == '(')
                    commentDepth++;
                else if (c == ')')
                    commentDepth--;
                continue;
            }
            switch (c)
            {
                case '"' when !inAngle:
                    inQuotes = true;
                    break;
                case '(' when !inAngle:
                    commentDepth = 1;
                    break;
                case '<':
                    inAngle = true;
                    break;
                case '>':
                    inAngle = false;
                    break;
                case ',' when !inAngle:
                    Add(entries, value[start..i]);
                    start = i + 1;
                    break;
            }
        }
        Add(entries, value[start..]);
        return entries;

        static void Add(List<string> entries, string entry)
        {
            entry = entry.Trim();
            if (entry.Length > 0)
                entries.Add(entry);
        }
    }

    static bool TryParseEntry(string entry, string field, [NotNullWhen(true)] out NamedAddress? address, [NotNullWhen(false)] out CompositionException? error)
    {
        address = null;
        error = null;
        if (HeaderText.FindControl(entry) is { } bad)
        {
            error = new CompositionException(field, $"The '{field}' field contains {HeaderText.Describe(bad)}; line breaks and control characters are not allowed in addresses.");
            return false;
        }

        var open = IndexOfUnquoted(entry, '<');
        string? name = null;
        string addr;
        if (open < 0)
        {
            addr = entry;
        }
        else
        {
            var close = entry.IndexOf('>', open + 1);
            if (close < 0 || entry.AsSpan(close + 1).Trim().Length > 0)
            {
                error = Invalid(field, entry);
                return false;
            }
            addr = entry[(open + 1)..close].Trim();
            var rawName = entry[..open].Trim();
            if (rawName.Length > 0 && !TryReadName(rawName, out name))
            {
                error = new CompositionException(field, $"The display name in '{entry}' in the '{field}' field has unbalanced quotes.");
                return false;
            }
        }

        if (!EmailAddress.IsValid(addr))
        {
            error = Invalid(field, entry);
            return false;
        }
        address = new NamedAddress(string.IsNullOrWhiteSpace(name) ? null : name, addr);
        return true;
    }

    static CompositionException Invalid(string field, string entry) =>
        new(field, $"Invalid '{field}' address: '{entry}'.");

    /// <summary>A display name: a quoted-string (RFC 5322 §3.2.4) is unquoted and unescaped; a bare phrase is kept as written.</summary>
    static bool TryReadName(string raw, [NotNullWhen(true)] out string? name)
    {
        name = null;
        if (raw[0] != '"')
        {
            if (raw.Contains('"'))
                return false;
            name = raw;
            return true;
        }
        if (raw.Length < 2 || raw[^1] != '"')
            return false;
        var builder = new StringBuilder(raw.Length);
        for (var i = 1; i < raw.Length - 1; i++)
        {
            var c = raw[i];
            if (c == '\\' && i + 1 < raw.Length - 1)
                c = raw[++i];
            else if (c is '"' or '\\')
                return false;
            builder.Append(c);
        }
        name = builder.ToString().Trim();
        return true;
    }

    static int IndexOfUnquoted(string value, char target)
    {
        var inQuotes = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (inQuotes && c == '\\')
                i++;
            else if (c == '"')
                inQuotes = !inQuotes;
            else if (!inQuotes && c == target)
                return i;
        }
        return -1;
    }
}
