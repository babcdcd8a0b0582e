using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Events;

/// <summary>
/// The platform's VERP keys (<see cref="VerpSigner"/>): delivery signs every return path with them, the MX path
/// checks that a report came to one it signed. The key is 32 random bytes, made on first need and kept in
/// <c>platform_secrets</c> (encrypted with Data Protection, like DKIM keys) so every node signs and verifies alike;
/// each node reads it once and keeps it. A row named <see cref="PreviousName"/>, when an operator keeps one after
/// replacing the key, still verifies (bounces of mail sent before the change come back for days).
/// </summary>
public sealed class VerpKeyring(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock)
{
    public const string CurrentName = "verp";
    public const string PreviousName = "verp.previous";
    private const int KeyLength = 32; // HMAC-SHA256's output size (RFC 2104 §3)

    private readonly SemaphoreSlim _gate = new(1, 1);
    private VerpSigner? _signer;

    public async ValueTask<VerpSigner> SignerAsync(CancellationToken ct)
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
            var previous = await db.PlatformSecrets.AsNoTracking().Where(s => s.Name == PreviousName).Select(s => s.ProtectedValue).FirstOrDefaultAsync(ct);
            Volatile.Write(ref _signer, new VerpSigner(current, previous is null ? [] : [Unprotect(previous)]));
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
        var stored = await FindAsync(db, CurrentName, ct);
        if (stored is null)
        {
            db.PlatformSecrets.Add(new PlatformSecret
            {
                Name = CurrentName,
                ProtectedValue = secrets.ProtectKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyLength))),
                CreatedAt = clock.GetUtcNow().UtcDateTime,
            });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear(); // another node's key is in: use it
            }
            stored = await FindAsync(db, CurrentName, ct)
                ?? throw new InvalidOperationException("The VERP key could be neither stored nor read back from platform_secrets.");
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
                "The VERP key in platform_secrets cannot be decrypted: every node must share the Data Protection key ring (the data folder's 'keys'), as for DKIM keys.", e);
        }
    }
}
