using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Storage;

/// <summary>Which store Mailroom uses: SQLite in the data folder unless a PostgreSQL connection is given.</summary>
public sealed record DatabaseSettings(string DataDirectory, string? PostgresConnection)
{
    public bool IsPostgres => !string.IsNullOrWhiteSpace(PostgresConnection);

    public string SqlitePath => Path.Combine(DataDirectory, "mailroom.db");

    public string SqliteConnection => new SqliteConnectionStringBuilder
    {
        DataSource = SqlitePath,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = 30,
    }.ToString();

    /// <summary>Accepts a libpq URI (postgres://user:pass@host:port/db) or a key=value string.</summary>
    public static string NormalizePostgres(string conn)
    {
        if (!conn.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) &&
            !conn.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            return conn;
        var uri = new Uri(conn);
        var b = new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        return b.ConnectionString;
    }
}

public static class DatabaseSetup
{
    public static IServiceCollection AddMailroomDatabase(this IServiceCollection services, DatabaseSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<SettingsCache>();
        services.AddSingleton<SettingsChangeNotifier>();
        services.AddSingleton<SettingsWriteInterceptor>();
        if (settings.IsPostgres)
        {
            var conn = DatabaseSettings.NormalizePostgres(settings.PostgresConnection!);
            services.AddDbContextPool<PostgresMailroomDb>((sp, o) => o.UseNpgsql(conn)
                .AddInterceptors(sp.GetRequiredService<SettingsWriteInterceptor>()));
            services.AddScoped<MailroomDb>(sp => sp.GetRequiredService<PostgresMailroomDb>());
        }
        else
        {
            Directory.CreateDirectory(settings.DataDirectory);
            // EF rebuilds a SQLite table to drop a column, between "PRAGMA foreign_keys = 0/1", which SQLite ignores inside a
            // transaction, so EF runs those two statements outside it and warns. The pragma is a setting of the one
            // connection, not of the file: a crash in between leaves nothing behind, and the rebuild itself is transactional.
            services.AddDbContextPool<SqliteMailroomDb>((sp, o) => o.UseSqlite(settings.SqliteConnection)
                .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning))
                .AddInterceptors(SqlitePragmas.Instance, sp.GetRequiredService<SettingsWriteInterceptor>()));
            services.AddScoped<MailroomDb>(sp => sp.GetRequiredService<SqliteMailroomDb>());
        }
        return services;
    }

    /// <summary>Key of the PostgreSQL advisory lock that serializes one-time setup between nodes (any constant
    /// unlikely to clash with another application's: "MAILROOM" in ASCII).</summary>
    public const long SetupLockKey = 0x4D41494C524F4F4D;

    /// <summary>
    /// Holds the cluster-wide setup lock until disposed: on PostgreSQL a session advisory lock (<c>pg_advisory_lock</c>)
    /// on a dedicated connection, taken after creating the database if it does not exist yet; on SQLite nothing (one
    /// file, one process). Nodes started at the same instant on an empty database run migrations and one-time setup
    /// (the first key of the key ring, the platform DKIM key) one after another: the first does the work, the others
    /// find it done. The lock goes with the connection, so a node that dies holding it frees it.
    /// </summary>
    public static async Task<IAsyncDisposable> SetupLockAsync(DatabaseSettings settings, CancellationToken ct = default)
    {
        if (!settings.IsPostgres)
            return NoLock.Instance;
        var conn = DatabaseSettings.NormalizePostgres(settings.PostgresConnection!);
        await EnsureDatabaseAsync(conn, ct);
        var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(conn) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            await using var cmd = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({SetupLockKey})", connection) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(ct);
            return connection; // closing the session releases the lock
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Creates the configured database when it does not exist, through the server's maintenance database. Several
    /// nodes may try at once: "already exists" (42P04, or 23505 when two CREATE DATABASE collide in the catalog) means
    /// another node won, which is success.
    /// </summary>
    public static async Task EnsureDatabaseAsync(string connection, CancellationToken ct = default)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection) { Pooling = false };
        try
        {
            await using var probe = new Npgsql.NpgsqlConnection(builder.ConnectionString);
            await probe.OpenAsync(ct);
            return;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "3D000") // invalid_catalog_name: no such database
        {
        }
        var name = builder.Database ?? throw new InvalidOperationException("The PostgreSQL connection names no database");
        var admin = new Npgsql.NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = "postgres" };
        await using var conn = new Npgsql.NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync(ct);
        try
        {
            await using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\"", conn);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState is "42P04" or "23505")
        {
        }
    }

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Applies pending migrations; SQLite is switched to WAL first (a property of the file, kept).
    /// Several nodes on PostgreSQL: call under <see cref="SetupLockAsync"/>.</summary>
    public static async Task MigrateAsync(MailroomDb db, CancellationToken ct = default)
    {
        if (db is SqliteMailroomDb)
        {
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
                await db.Database.MigrateAsync(ct);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        else
        {
            await CreateHistoryTableAsync(db, ct);
            await db.Database.MigrateAsync(ct);
        }
    }

    /// <summary>
    /// PostgreSQL: creates EF's (empty) migration history table if it is missing. Npgsql's check for that table is a
    /// SELECT from it, logged as a failed command when the table is absent (npgsql/efcore.pg#3407), so every first
    /// start on a new database logged errors that were none; with the table there, the check just reads it.
    /// </summary>
    public static async Task CreateHistoryTableAsync(MailroomDb db, CancellationToken ct = default)
    {
        if (db is PostgresMailroomDb)
            await Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Migrations.IHistoryRepository>(db)
                .CreateIfNotExistsAsync(ct);
    }
}

/// <summary>Per-connection SQLite settings: WAL keeps readers off the writer; NORMAL sync is durable in WAL
/// only up to the last checkpoint, so Mailroom uses FULL: an accepted message survives a power cut.</summary>
internal sealed class SqlitePragmas : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public static readonly SqlitePragmas Instance = new();

    public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
        => Apply(connection);

    public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The pooled SQLite connections these were set on. EF opens and closes its connection around every query;
    /// the pool keeps the physical connection (and its settings) open, so running the four statements again on
    /// each open cost every query a statement parse and a lock on the journal mode for nothing.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Applied = new();

    private static void Apply(System.Data.Common.DbConnection connection)
    {
        if (connection is Microsoft.Data.Sqlite.SqliteConnection { Handle: { } handle } && Applied.TryGetValue(handle, out _))
            return;
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        cmd.ExecuteNonQuery();
        if (connection is Microsoft.Data.Sqlite.SqliteConnection { Handle: { } opened })
            Applied.TryAdd(opened, Applied);
    }
}

/// <summary>Design-time factories for <c>dotnet ef migrations</c>.</summary>
public sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteMailroomDb>
{
    public SqliteMailroomDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteMailroomDb>().UseSqlite("Data Source=design.db").Options);
}

public sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresMailroomDb>
{
    public PostgresMailroomDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresMailroomDb>().UseNpgsql("Host=127.0.0.1;Database=mailroom").Options);
}
