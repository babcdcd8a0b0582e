using Mailroom.Mail.Dkim;
using System.Globalization;
using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Identities;

/// <summary>
/// Makes DKIM keys and gives their private halves back. Keys are RSA-2048 (RFC 8301 §3.2: at least 1024, 2048
/// recommended; so <c>WeakDKIM</c> is always false), the private key kept as PKCS#1 PEM encrypted with Data
/// Protection. The platform's own key is a key with no domain, made on first need.
/// </summary>
public sealed class DkimKeyStore(MailroomDb db, Secrets secrets, TimeProvider clock)
{
    /// <summary>A new key (not yet added to the database) whose selector differs from <paramref name="taken"/>.</summary>
    public StoredDkimKey NewKey(DkimKeyState state, IEnumerable<string> taken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var used = taken.ToHashSet(StringComparer.OrdinalIgnoreCase);
        // Postmark's selector shape: the creation time to the second + "pm". Two keys of one domain made within the
        // same second (create, then rotate at once) would share a DNS name, so the later one moves on a second.
        var stamp = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        string selector;
        while (used.Contains(selector = stamp.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "pm"))
            stamp = stamp.AddSeconds(1);
        using var rsa = RSA.Create(2048);
        return new StoredDkimKey
        {
            Selector = selector,
            PublicKey = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()),
            ProtectedPrivateKey = secrets.ProtectKey(rsa.ExportRSAPrivateKeyPem()),
            State = state,
            CreatedAt = now,
            ActivatedAt = state == DkimKeyState.Active ? now : null,
        };
    }

    public string PrivateKeyPem(StoredDkimKey key) => secrets.UnprotectKey(key.ProtectedPrivateKey);

    public DkimKey SigningKey(StoredDkimKey key, string domain) => new(domain, key.Selector, PrivateKeyPem(key));

    /// <summary>Where a key's TXT record lives (RFC 6376 §3.6.2.1).</summary>
    public static string Host(StoredDkimKey key, string domain) => $"{key.Selector}._domainkey.{domain}";

    /// <summary>
    /// The platform's key, made and saved on first call. Call it before adding anything else to this scope's
    /// <see cref="MailroomDb"/>: making the key saves the context. Two nodes starting at once may each make one;
    /// the oldest wins everywhere, so they agree.
    /// </summary>
    public async Task<StoredDkimKey> PlatformKeyAsync(CancellationToken ct = default)
    {
        var key = await FindPlatformKeyAsync(ct);
        if (key is not null)
            return key;
        db.DkimKeys.Add(NewKey(DkimKeyState.Active, []));
        await db.SaveChangesAsync(ct);
        return (await FindPlatformKeyAsync(ct))!;
    }

    private Task<StoredDkimKey?> FindPlatformKeyAsync(CancellationToken ct) =>
        db.DkimKeys.AsNoTracking().Where(k => k.DomainId == null && k.State == DkimKeyState.Active).OrderBy(k => k.Id).FirstOrDefaultAsync(ct);
}
