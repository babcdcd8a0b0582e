namespace Mailroom.Core.Dmarc;

/// <summary>A sending service or a forwarder named in <c>known-senders.txt</c>.</summary>
public sealed record KnownSender(string Kind, string Name)
{
    public const string Service = "service";
    public const string Forwarder = "forwarder";
}

/// <summary>
/// The embedded <c>known-senders.txt</c>: domain suffixes of sending services and forwarders, matched against the DKIM
/// and SPF domains a report row authenticated as and against the forward-confirmed PTR name of its source IP.
/// </summary>
public static class KnownSenders
{
    private static readonly Lazy<Dictionary<string, KnownSender>> Suffixes = new(Load);

    /// <summary>The entry whose suffix is <paramref name="domain"/> or the longest one it ends with; null when none.</summary>
    public static KnownSender? Match(string? domain)
    {
        if (string.IsNullOrEmpty(domain))
            return null;
        var name = domain.Trim().TrimEnd('.').ToLowerInvariant();
        // Try the name, then each parent: the first hit is the longest matching suffix.
        for (var at = 0; at >= 0 && at < name.Length; at = name.IndexOf('.', at) is var dot and >= 0 ? dot + 1 : -1)
            if (Suffixes.Value.TryGetValue(name[at..], out var sender))
                return sender;
        return null;
    }

    private static Dictionary<string, KnownSender> Load()
    {
        using var stream = typeof(KnownSenders).Assembly.GetManifestResourceStream("Mailroom.Core.Dmarc.known-senders.txt")
            ?? throw new InvalidOperationException("known-senders.txt is not embedded in Mailroom.Core.");
        using var reader = new StreamReader(stream);
        var map = new Dictionary<string, KnownSender>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var parts = line.Split('\t');
            if (parts.Length != 3 || parts[0] is not (KnownSender.Service or KnownSender.Forwarder))
                throw new InvalidOperationException($"known-senders.txt: '{line}' is not 'kind<TAB>name<TAB>suffixes'.");
            var sender = new KnownSender(parts[0], parts[1]);
            foreach (var suffix in parts[2].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (!map.TryAdd(suffix.ToLowerInvariant(), sender))
                    throw new InvalidOperationException($"known-senders.txt names {suffix} twice.");
        }
        return map;
    }
}
