using System.Security.Cryptography;
using Microsoft.Extensions.Caching.Memory;

namespace Mailroom.Web;

/// <summary>
/// Rendered template drafts waiting for the editor's preview iframe to load them. The editor posts the draft (with its
/// test model) and gets back a key; the iframe then loads the HTML by that key from its own URL, served with a sandbox
/// CSP like a message's HTML, so a draft's markup never runs in the app's origin. An entry belongs to one user and one
/// server, lives ten minutes, and the whole store is bounded (oldest dropped first under pressure).
/// </summary>
public sealed class TemplatePreviews : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 64 * 1024 * 1024 });

    private sealed record Entry(int UserId, int ServerId, string Html);

    public string Add(int userId, int serverId, string html)
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        _cache.Set(key, new Entry(userId, serverId, html), new MemoryCacheEntryOptions
        {
            Size = Math.Max(1, html.Length * sizeof(char)),
            AbsoluteExpirationRelativeToNow = Lifetime,
        });
        return key;
    }

    /// <summary>The HTML of <paramref name="key"/> when it was made by this user for this server, else null.</summary>
    public string? Find(string? key, int userId, int serverId) =>
        key is not null && _cache.TryGetValue(key, out Entry? e) && e is not null && e.UserId == userId && e.ServerId == serverId ? e.Html : null;

    public void Dispose() => _cache.Dispose();
}
