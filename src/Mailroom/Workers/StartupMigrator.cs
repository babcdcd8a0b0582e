using Mailroom.Core;
using Microsoft.EntityFrameworkCore;
using Mailroom.Core.Storage;

namespace Mailroom.Workers;

/// <summary>Set once migrations are applied; <c>GET /health</c> answers 200 from then on.</summary>
public sealed class Readiness
{
    private volatile bool _ready;
    public bool IsReady => _ready;
    public void MarkReady() => _ready = true;
}

/// <summary>Applies migrations before the server takes requests (hosted services start before Kestrel).</summary>
public sealed class StartupMigrator(IServiceProvider services, Readiness readiness, ILogger<StartupMigrator> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await Mailroom.Operations.SchemaGuard.CheckAsync(db, ct);
        await DatabaseSetup.MigrateAsync(db, ct);
        await CheckSecretsAsync(db, scope.ServiceProvider.GetRequiredService<Secrets>(), scope.ServiceProvider.GetRequiredService<MasterKey>(), ct);
        log.LogInformation("Database ready ({Provider})", db.Database.ProviderName);
        readiness.MarkReady();
    }

    /// <summary>
    /// The canary: the newest stored secret (a server token, else a DKIM key) must decrypt with this process's key ring.
    /// If it does not (another master key, a lost or foreign key ring), start fails here with the reason, instead of
    /// every later API call and send failing one by one.
    /// </summary>
    private static async Task CheckSecretsAsync(MailroomDb db, Secrets secrets, MasterKey masterKey, CancellationToken ct)
    {
        var token = await db.ServerTokens.AsNoTracking().OrderByDescending(t => t.Id).Select(t => t.ProtectedToken).FirstOrDefaultAsync(ct);
        var key = token is null ? await db.DkimKeys.AsNoTracking().OrderByDescending(k => k.Id).Select(k => k.ProtectedPrivateKey).FirstOrDefaultAsync(ct) : null;
        try
        {
            if (token is not null)
                secrets.UnprotectToken(token);
            else if (key is not null)
                secrets.UnprotectKey(key);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException(
                "Stored secrets cannot be decrypted by this process's key ring (the keys folder of the data folder, encrypted with the master key from " +
                $"{masterKey.Source}). Start Mailroom with the data folder and master key the store was made with. ({e.Message})", e);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
