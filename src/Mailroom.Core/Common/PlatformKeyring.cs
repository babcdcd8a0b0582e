using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core;

/// <summary>
/// One platform-wide HMAC key (RFC 2104) and what signs with it (VERP return paths, unsubscribe links, tracking
/// tokens): 32 random bytes, made on first need and kept in <c>platform_secrets</c> under <paramref name="name"/>
/// (encrypted with Data Protection, like DKIM keys) so every node signs and verifies alike; each node reads it once
/// and keeps the signer. When <paramref name="previousName"/> is given, a row under it (kept by an operator after
/// replacing the key) still verifies: mail sent before the change keeps its links and bounces working.
/// </summary>
public abstract class PlatformKeyring<TSigner>(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock, string name, string? previousName)
    where TSigner : class
{
    private const int KeyLength = 32; // HMAC-SHA256's output size (RFC 2104 §3)

    private readonly SemaphoreSlim _gate = new(1, 1);
    private TSigner? _signer;

    /// <summary>The signer made of the current key and the previous one when there is one.</summary>
    protected abstract TSigner Create(byte[] current, IReadOnlyList<byte[]> previous);

    /// <summary>The signer, loaded (or the key made) once per process.</summary>
    public async ValueTask<TSigner> SignerAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _signer) is { } signer)
            return signer;
        await _gate.WaitAsync(ct);
        try
        {
            if (_signer is not null)
                return _signer;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
            var current = await LoadOrCreateAsync(db, ct);
            var previous = previousName is null ? null : await FindAsync(db, previousName, ct);
            Volatile.Write(ref _signer, Create(current, previous is null ? [] : [Unprotect(previous)]));
            return _signer!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads the key, or makes it. Nodes starting at once may each try to insert one: the unique index on the name
    /// lets only the first in, and the others, refused, read that one back, so all sign with the same key.
    /// </summary>
    private async Task<byte[]> LoadOrCreateAsync(MailroomDb db, CancellationToken ct)
    {
        var stored = await FindAsync(db, name, ct);
        if (stored is null)
        {
            db.PlatformSecrets.Add(new PlatformSecret
            {
                Name = name,
                ProtectedValue = secrets.ProtectKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyLength))),
                CreatedAt = clock.GetUtcNow().UtcDateTime,
            });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (UniqueIndex.IsViolation(e))
            {
                db.ChangeTracker.Clear(); // another node's key is in: use it
            }
            stored = await FindAsync(db, name, ct)
                ?? throw new InvalidOperationException($"The '{name}' key could be neither stored nor read back from platform_secrets.");
        }
        return Unprotect(stored);
    }

    private static Task<string?> FindAsync(MailroomDb db, string name, CancellationToken ct) =>
        db.PlatformSecrets.AsNoTracking().Where(s => s.Name == name).Select(s => s.ProtectedValue).FirstOrDefaultAsync(ct);

    private byte[] Unprotect(string protectedValue)
    {
        try
        {
            return Convert.FromBase64String(secrets.UnprotectKey(protectedValue));
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"The '{name}' key in platform_secrets cannot be decrypted: every node must share the Data Protection key ring (the data folder's 'keys'), as for DKIM keys.", e);
        }
    }
}
