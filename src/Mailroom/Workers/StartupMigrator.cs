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
        // Nodes started together on one PostgreSQL database take turns here (an advisory lock): the database is
        // created, migrated and given its first Data Protection key once; the others find it done.
        await using (await DatabaseSetup.SetupLockAsync(scope.ServiceProvider.GetRequiredService<DatabaseSettings>(), ct))
        {
            await Mailroom.Operations.SchemaGuard.CheckAsync(db, ct);
            await DatabaseSetup.MigrateAsync(db, ct);
            if (db is PostgresMailroomDb)
                await ImportFolderKeysAsync(db, scope.ServiceProvider.GetRequiredService<Mailroom.Cli.MailroomSettings>(), ct);
            // The canary first: a node with the wrong master key stops before it could add a key to the shared ring.
            await CheckSecretsAsync(db, scope.ServiceProvider.GetRequiredService<Secrets>(), scope.ServiceProvider.GetRequiredService<MasterKey>(), ct);
            // Reading the key ring makes its first key if there is none, and stores it before the lock is released:
            // nodes started together find one key, not one each.
            scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>()
                .CreateProtector("Mailroom.Startup").Protect([1]);
        }
        log.LogInformation("Database ready ({Provider})", db.Database.ProviderName);
        readiness.MarkReady();
    }

    /// <summary>
    /// Upgrade from a version that kept the key ring in the data folder on PostgreSQL too: when the database has no
    /// key yet and this data folder has some, they are copied in (as stored: encrypted with the master key), so the
    /// secrets they encrypted stay readable, now by every node.
    /// </summary>
    private async Task ImportFolderKeysAsync(MailroomDb db, Mailroom.Cli.MailroomSettings settings, CancellationToken ct)
    {
        var folder = new DirectoryInfo(Path.Combine(Path.GetFullPath(settings.DataDirectory), "keys"));
        if (!folder.Exists || await db.DataProtectionKeys.AnyAsync(ct))
            return;
        var files = folder.GetFiles("*.xml");
        foreach (var file in files)
            db.DataProtectionKeys.Add(new Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey
            {
                FriendlyName = Path.GetFileNameWithoutExtension(file.Name),
                Xml = await File.ReadAllTextAsync(file.FullName, ct),
            });
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        if (files.Length > 0)
            log.LogInformation("Copied {Count} Data Protection keys from {Folder} into the database (the key ring every node shares)", files.Length, folder.FullName);
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
                "Stored secrets cannot be decrypted by this process's key ring (in the database on PostgreSQL, else the keys folder of the data folder; encrypted with the master key from " +
                $"{masterKey.Source}). Start Mailroom with the data folder and master key the store was made with. ({e.Message})", e);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
