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
        await DatabaseSetup.MigrateAsync(db, ct);
        log.LogInformation("Database ready ({Provider})", db.Database.ProviderName);
        readiness.MarkReady();
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
