using Npgsql;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Which store the suite runs on. <c>MAILROOM_TEST_DATABASE</c> unset or <c>sqlite</c>: a fresh SQLite file per
/// host. A PostgreSQL connection string: a fresh database per host on that server (CI starts a throwaway
/// PostgreSQL on a free loopback port and runs the whole suite once more with it).
/// </summary>
public static class TestDatabase
{
    public static string? PostgresAdminConnection
    {
        get
        {
            var v = Environment.GetEnvironmentVariable("MAILROOM_TEST_DATABASE");
            return string.IsNullOrWhiteSpace(v) || v.Equals("sqlite", StringComparison.OrdinalIgnoreCase) ? null : v;
        }
    }

    public static bool IsPostgres => PostgresAdminConnection is not null;

    /// <summary>Creates an empty database for one test host and returns its connection string (null on SQLite).</summary>
    public static async Task<string?> CreateAsync()
    {
        var admin = PostgresAdminConnection;
        if (admin is null)
            return null;
        var adminConn = Mailroom.Core.Storage.DatabaseSettings.NormalizePostgres(admin);
        var name = "mrtest_" + Guid.NewGuid().ToString("N")[..16];
        await using (var conn = new NpgsqlConnection(adminConn))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        // Hundreds of test hosts each get a database and a pool: keep pools small and let idle connections close
        // quickly, or the server's max_connections is reached.
        return new NpgsqlConnectionStringBuilder(adminConn)
        {
            Database = name,
            Pooling = true,
            MaxPoolSize = 20,
            ConnectionIdleLifetime = 2,
            ConnectionPruningInterval = 1,
        }.ConnectionString;
    }
}
