using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Mailroom.Core.Templates;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>
/// Rendered template drafts waiting for the editor's preview iframe to load them. The editor posts the draft (with its
/// test model) and gets back a key; the iframe then loads the HTML by that key from its own URL, served with a sandbox
/// CSP like a message's HTML, so a draft's markup never runs in the app's origin. The drafts are rows of the shared
/// store (only the key's hash is kept), so the iframe's request may reach any node behind a load balancer. An entry
/// belongs to one user and one server and lives ten minutes; a user keeps at most <see cref="PerUser"/> of them, and
/// every write removes what has expired.
/// </summary>
public sealed class TemplatePreviews(MailroomDb db, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    public const int PerUser = 20;

    public async Task<string> AddAsync(int userId, int serverId, string html, CancellationToken ct = default)
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = clock.GetUtcNow().UtcDateTime;
        db.TemplatePreviews.Add(new TemplatePreview
        {
            KeyHash = Secrets.Hash(key), WebUserId = userId, ServerId = serverId, Html = html, ExpiresAt = now + Lifetime,
        });
        await db.SaveChangesAsync(ct);
        await db.TemplatePreviews.Where(p => p.ExpiresAt <= now).ExecuteDeleteAsync(ct);
        // The user's newest PerUser stay; an editor that previews on every keystroke cannot fill the store.
        var keepFrom = await db.TemplatePreviews.Where(p => p.WebUserId == userId).OrderByDescending(p => p.Id)
            .Skip(PerUser - 1).Select(p => (long?)p.Id).FirstOrDefaultAsync(ct);
        if (keepFrom is { } oldestKept)
            await db.TemplatePreviews.Where(p => p.WebUserId == userId && p.Id < oldestKept).ExecuteDeleteAsync(ct);
        return key;
    }

    /// <summary>The HTML of <paramref name="key"/> when it was made by this user for this server and has not expired, else null.</summary>
    public async Task<string?> FindAsync(string? key, int userId, int serverId, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(key) || key.Length != 32)
            return null;
        var hash = Secrets.Hash(key);
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.TemplatePreviews.AsNoTracking()
            .Where(p => p.KeyHash == hash && p.WebUserId == userId && p.ServerId == serverId && p.ExpiresAt > now)
            .Select(p => p.Html).FirstOrDefaultAsync(ct);
    }
}
