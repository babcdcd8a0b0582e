using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// One group of report fields: a DSN per-message or per-recipient block (RFC 3464 §2.2, §2.3), or the
/// fields of an RFC 5965 feedback report. Field names compare case-insensitively.
/// </summary>
internal sealed class FieldGroup
{
    private const int MaxFieldsPerGroup = 200;
    private const int MaxGroups = 500;

    private readonly List<(string Name, string Value)> _fields = [];

    public IReadOnlyList<(string Name, string Value)> Fields => _fields;

    public string? this[string name]
    {
        get
        {
            foreach (var (n, v) in _fields)
                if (n.Equals(name, StringComparison.OrdinalIgnoreCase))
                    return v;
            return null;
        }
    }

    public IEnumerable<string> All(string name)
    {
        foreach (var (n, v) in _fields)
            if (n.Equals(name, StringComparison.OrdinalIgnoreCase))
                yield return v;
    }

    public bool Has(string name) => this[name] is not null;

    private void Add(string name, string value)
    {
        if (_fields.Count < MaxFieldsPerGroup)
            _fields.Add((name.Trim(), value.Trim()));
    }

    public static FieldGroup From(HeaderList headers)
    {
        var group = new FieldGroup();
        foreach (var header in headers)
            group.Add(header.Field, header.Value ?? "");
        return group;
    }

    /// <summary>MimeKit's parse of a <c>message/delivery-status</c> part; falls back to <see cref="Parse"/> if MimeKit finds nothing.</summary>
    public static List<FieldGroup> From(MessageDeliveryStatus part)
    {
        var groups = new List<FieldGroup>();
        try
        {
            foreach (var headers in part.StatusGroups)
            {
                if (groups.Count >= MaxGroups)
                    break;
                groups.Add(From(headers));
            }
        }
        catch (Exception)
        {
            groups.Clear();
        }
        if (groups.Count == 0 || groups.TrueForAll(g => g._fields.Count == 0))
            groups = Parse(NotificationParts.ReadText(part, NotificationParts.MaxTextChars));
        return SplitRecipients(groups);
    }

    /// <summary>
    /// RFC 3464 §2.1 separates per-recipient groups by blank lines, but some MTAs (AOL's outbound relay among
    /// them) write the groups back to back. A recipient field that the group already has starts the next
    /// recipient's group, so the second recipient is neither lost nor merged into the first.
    /// </summary>
    private static List<FieldGroup> SplitRecipients(List<FieldGroup> groups)
    {
        if (!groups.Exists(g => g.All("Final-Recipient").Skip(1).Any() || g.All("Original-Recipient").Skip(1).Any()))
            return groups;
        var split = new List<FieldGroup>();
        foreach (var group in groups)
        {
            var current = new FieldGroup();
            foreach (var (name, value) in group._fields)
            {
                var startsRecipient = name.Equals("Final-Recipient", StringComparison.OrdinalIgnoreCase)
                    || name.Equals("Original-Recipient", StringComparison.OrdinalIgnoreCase);
                if (startsRecipient && current.Has(name) && split.Count < MaxGroups)
                {
                    split.Add(current);
                    current = new FieldGroup();
                }
                current.Add(name, value);
            }
            if (current._fields.Count > 0 && split.Count < MaxGroups)
                split.Add(current);
        }
        return split;
    }

    /// <summary>
    /// Parses field groups from text: <c>Name: value</c> lines, continuation lines starting with white
    /// space (RFC 5322 §2.2.3 folding), groups separated by blank lines (RFC 3464 §2.1).
    /// </summary>
    public static List<FieldGroup> Parse(string text)
    {
        var groups = new List<FieldGroup>();
        var current = new FieldGroup();
        string? name = null;
        var value = new System.Text.StringBuilder();

        void Flush()
        {
            if (name is not null)
                current.Add(name, value.ToString());
            name = null;
            value.Clear();
        }

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                Flush();
                if (current._fields.Count > 0)
                {
                    groups.Add(current);
                    if (groups.Count >= MaxGroups)
                        return groups;
                    current = new FieldGroup();
                }
                continue;
            }
            if ((line[0] == ' ' || line[0] == '\t') && name is not null)
            {
                if (value.Length < 8192)
                    value.Append(' ').Append(line.Trim());
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon > 0 && colon < 80 && IsFieldName(line.AsSpan(0, colon)))
            {
                Flush();
                name = line[..colon];
                value.Append(line[(colon + 1)..]);
            }
        }
        Flush();
        if (current._fields.Count > 0)
            groups.Add(current);
        return SplitRecipients(groups);
    }

    private static bool IsFieldName(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
            if (c <= ' ' || c > '~')
                return false;
        return true;
    }
}
