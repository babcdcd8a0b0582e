using Mailroom.Core.Storage;
using Mailroom.Workers;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Mailroom.Api;

/// <summary>
/// <c>GET /health</c>, for load balancers and monitors: 200 <c>{"Status":"Ready"}</c> when this node can take mail;
/// 503 <c>{"Status":"Starting"}</c> before the database is migrated, and 503 <c>{"Status":"Unavailable","Reason":...}</c>
/// while the store refuses writes (locked beyond the probe's wait, read-only, cannot be opened, disk full), when
/// <c>POST /email</c> and SMTP would fail too. No token: it says nothing about any tenant.
/// </summary>
public static class HealthApi
{
    public static void MapHealthApi(this WebApplication app) =>
        app.MapGet("/health", async (Readiness ready, StoreHealth store, CancellationToken ct) =>
        {
            if (!ready.IsReady)
                return Results.Json(new { Status = "Starting" }, ApiConventions.Json, statusCode: 503);
            var problem = await store.CheckAsync(ct);
            return problem is null
                ? Results.Json(new { Status = "Ready" }, ApiConventions.Json)
                : Results.Json(new { Status = "Unavailable", Reason = problem }, ApiConventions.Json, statusCode: 503);
        });
}

/// <summary>
/// Whether the store takes writes: one tiny committed write transaction on a connection of its own, with a short wait
/// for the write lock, its answer kept for <see cref="CacheFor"/> so a monitor polling /health (or anyone else) causes
/// at most one probe a second. Concurrent callers share the probe in flight.
/// <list type="bullet">
/// <item>SQLite: <c>BEGIN IMMEDIATE</c> (takes the write lock), rewrite <c>PRAGMA user_version</c> with its own value
/// (a real page write: the WAL grows by one frame and is synced at COMMIT, so a full disk or a read-only file fails
/// here too), <c>COMMIT</c>. Mailroom does not use user_version (EF keeps its own history table).</item>
/// <item>PostgreSQL: a transaction with an UPDATE of EF's history table that matches no row (refused when transactions
/// are read-only: <c>default_transaction_read_only</c>, a standby) that takes a transaction id (<c>txid_current()</c>)
/// and commits, which writes and flushes a commit record.</item>
/// </list>
/// </summary>
public sealed class StoreHealth(DatabaseSettings database, TimeProvider clock, ILogger<StoreHealth> log)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(1);
    /// <summary>How long the probe waits for the write lock or the server: longer than any healthy commit holds it.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private Task<string?>? _probe;
    private DateTimeOffset _probedAt;

    /// <summary>Null when the store takes writes, else why not.</summary>
    public Task<string?> CheckAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            if (_probe is null || (_probe.IsCompleted && now - _probedAt >= CacheFor))
            {
                _probedAt = now;
                _probe = ProbeAsync();
            }
            return _probe.WaitAsync(ct);
        }
    }

    private async Task<string?> ProbeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(Wait + TimeSpan.FromSeconds(3));
            if (database.IsPostgres)
                await ProbePostgresAsync(timeout.Token);
            else
                await ProbeSqliteAsync(timeout.Token);
            return null;
        }
        catch (Exception e)
        {
            log.LogError(e, "Health: the store refuses writes");
            return "The database refuses writes: " + e.Message;
        }
    }

    private async Task ProbeSqliteAsync(CancellationToken ct)
    {
        // Not pooled: a pooled connection carries the 30 s busy timeout the application's connections use, and
        // opening the file is part of what is checked ("unable to open database file" when descriptors run out).
        var builder = new SqliteConnectionStringBuilder(database.SqliteConnection) { Pooling = false, DefaultTimeout = (int)Wait.TotalSeconds };
        await using var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA busy_timeout={(int)Wait.TotalMilliseconds}; BEGIN IMMEDIATE; PRAGMA user_version;";
        var version = Convert.ToInt64(await command.ExecuteScalarAsync(ct));
        command.CommandText = $"PRAGMA user_version={version}; COMMIT;";
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task ProbePostgresAsync(CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(DatabaseSettings.NormalizePostgres(database.PostgresConnection!))
        {
            Timeout = (int)Wait.TotalSeconds,
            CommandTimeout = (int)Wait.TotalSeconds,
        };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        // The UPDATE matches no row but is refused in a read-only transaction (default_transaction_read_only, a
        // standby); txid_current() makes the COMMIT write and flush a commit record.
        await using var command = new NpgsqlCommand(
            "UPDATE \"__EFMigrationsHistory\" SET \"MigrationId\" = \"MigrationId\" WHERE false; SELECT txid_current();", connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
        await transaction.CommitAsync(ct);
    }
}
