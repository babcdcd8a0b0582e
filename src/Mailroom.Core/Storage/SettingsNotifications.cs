using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mailroom.Core.Storage;

/// <summary>
/// Tells the other nodes on one PostgreSQL database that a settings table changed: <c>NOTIFY mailroom_settings</c>
/// after the write committed (PostgreSQL delivers a notification only at commit, and only to sessions listening then).
/// On SQLite (one process) it does nothing. A failed NOTIFY is logged: the write stands, and other nodes see it within
/// <see cref="SettingsCache.MaxAge"/> all the same.
/// </summary>
public sealed class SettingsChangeNotifier(DatabaseSettings settings, ILogger<SettingsChangeNotifier> log) : IAsyncDisposable
{
    public const string Channel = "mailroom_settings";

    private readonly NpgsqlDataSource? _source = settings.IsPostgres
        ? new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(DatabaseSettings.NormalizePostgres(settings.PostgresConnection!))
            { MaxPoolSize = 2, ConnectionIdleLifetime = 10 }.ConnectionString).Build()
        : null;

    public bool Enabled => _source is not null;

    public async Task NotifyAsync()
    {
        if (_source is null)
            return;
        try
        {
            await using var cmd = _source.CreateCommand($"NOTIFY {Channel}");
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception e)
        {
            log.LogWarning(e, "NOTIFY {Channel} failed; other nodes see the settings change within the cache's maximum age", Channel);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_source is not null)
            await _source.DisposeAsync();
    }
}

/// <summary>
/// Listens on <c>mailroom_settings</c> over a dedicated PostgreSQL connection and empties this node's
/// <see cref="SettingsCache"/> on every notification, so a change made on any node (a deleted server, a revoked token)
/// holds here at once instead of after <see cref="SettingsCache.MaxAge"/>. The connection is reopened after a failure,
/// and the cache emptied then too: notifications sent while it was down are lost.
/// </summary>
public sealed class SettingsChangeListener(DatabaseSettings settings, SettingsCache cache, TimeProvider clock, ILogger<SettingsChangeListener> log) : BackgroundService
{
    /// <summary>Notifications received (for tests and logs).</summary>
    public long Received => Interlocked.Read(ref _received);

    private long _received;

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        if (!settings.IsPostgres)
            return;
        var conn = new NpgsqlConnectionStringBuilder(DatabaseSettings.NormalizePostgres(settings.PostgresConnection!))
        {
            Pooling = false,
            KeepAlive = 15, // a half-open connection is noticed and reopened
        }.ConnectionString;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(conn);
                connection.Notification += (_, _) =>
                {
                    Interlocked.Increment(ref _received);
                    cache.Invalidate();
                };
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {SettingsChangeNotifier.Channel}", connection))
                    await listen.ExecuteNonQueryAsync(ct);
                cache.Invalidate(); // whatever changed while not listening
                while (!ct.IsCancellationRequested)
                    await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Listening for settings changes failed; reconnecting");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), clock, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
