using Npgsql;

namespace Mailroom.Testing;

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
        var connection = await CreateAsync(Mailroom.Core.Storage.DatabaseSettings.NormalizePostgres(admin), "mrtest_" + Guid.NewGuid().ToString("N")[..16]);
        // Hundreds of test hosts each get a database and a pool: keep pools small and let idle connections close
        // quickly, or the server's max_connections is reached.
        return new NpgsqlConnectionStringBuilder(connection)
        {
            Pooling = true,
            MaxPoolSize = 20,
            ConnectionIdleLifetime = 2,
            ConnectionPruningInterval = 1,
        }.ConnectionString;
    }

    /// <summary>Creates the database <paramref name="name"/> on the server of <paramref name="adminConnection"/> and
    /// returns the connection string to it.</summary>
    public static async Task<string> CreateAsync(string adminConnection, string name, CancellationToken ct = default)
    {
        await using (var conn = new NpgsqlConnection(adminConnection))
        {
            await conn.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return new NpgsqlConnectionStringBuilder(adminConnection) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateAsync(string, string, CancellationToken)"/>, closing its
    /// connections; a failure is printed, not thrown (the server is a throwaway one).</summary>
    public static async Task DropAsync(string adminConnection, string name)
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(adminConnection);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            Console.Error.WriteLine($"warning: could not drop database {name}: {e.Message}");
        }
    }
}
