using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Mailroom.Mail.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Tracking;

/// <summary>
/// The key of tracking tokens (<see cref="TrackingTokenSigner"/>), kept like the VERP key (<see cref="Events.VerpKeyring"/>):
/// 32 random bytes made on first need in <c>platform_secrets</c> (encrypted with Data Protection), read once per node.
/// A row named <see cref="PreviousName"/> still verifies after an operator replaces the key (links in mail already
/// sent keep working).
/// </summary>
public sealed class TrackingKeyring(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock)
{
    public const string CurrentName = "tracking";
    public const string PreviousName = "tracking.previous";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private TrackingTokenSigner? _signer;

    public async ValueTask<TrackingTokenSigner> SignerAsync(CancellationToken ct)
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
            var current = await FindAsync(db, CurrentName, ct);
            if (current is null)
            {
                db.PlatformSecrets.Add(new PlatformSecret
                {
                    Name = CurrentName,
                    ProtectedValue = secrets.ProtectKey(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                    CreatedAt = clock.GetUtcNow().UtcDateTime,
                });
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException)
                {
                    db.ChangeTracker.Clear(); // another node made it first (unique name): use that one
                }
                current = await FindAsync(db, CurrentName, ct)
                    ?? throw new InvalidOperationException("The tracking key could be neither stored nor read back from platform_secrets.");
            }
            var previous = await FindAsync(db, PreviousName, ct);
            Volatile.Write(ref _signer, new TrackingTokenSigner(Unprotect(current), previous is null ? [] : [Unprotect(previous)]));
            return _signer!;
        }
        finally
        {
            _gate.Release();
        }
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
                "The tracking key in platform_secrets cannot be decrypted: every node must share the Data Protection key ring.", e);
        }
    }
}
