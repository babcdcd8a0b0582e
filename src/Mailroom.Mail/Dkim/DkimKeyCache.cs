using System.Collections.Concurrent;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// Loaded signing keys by <see cref="DkimKey"/> value, so the PEM is parsed and the RSA object built
/// once per key rather than once per message. Thread-safe; each key is loaded at most once at a time.
/// When it holds more than its capacity it is emptied and refilled on demand (keys change rarely).
/// </summary>
public sealed class DkimKeyCache
{
    readonly ConcurrentDictionary<DkimKey, Lazy<DkimSigningKey>> entries = new();
    readonly int capacity;

    /// <summary>Creates a cache that holds at most <paramref name="capacity"/> keys.</summary>
    public DkimKeyCache(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
    }

    /// <summary>The process-wide cache <see cref="DkimSigning.Sign(MimeKit.MimeMessage, DkimKey, DateTimeOffset)"/> uses.</summary>
    public static DkimKeyCache Shared { get; } = new();

    /// <summary>Keys held now.</summary>
    public int Count => entries.Count;

    /// <summary>The loaded key, loading it on first use. Throws as <see cref="DkimSigningKey.Load"/> does.</summary>
    public DkimSigningKey Get(DkimKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (entries.TryGetValue(key, out var cached))
            return Value(key, cached);

        if (entries.Count >= capacity)
            entries.Clear();
        var entry = entries.GetOrAdd(key, static k => new Lazy<DkimSigningKey>(() => DkimSigningKey.Load(k), LazyThreadSafetyMode.ExecutionAndPublication));
        return Value(key, entry);
    }

    DkimSigningKey Value(DkimKey key, Lazy<DkimSigningKey> entry)
    {
        try
        {
            return entry.Value;
        }
        catch
        {
            // Do not remember a failed load: the caller may fix the key record and retry.
            entries.TryRemove(new KeyValuePair<DkimKey, Lazy<DkimSigningKey>>(key, entry));
            throw;
        }
    }
}
