using Microsoft.Data.Sqlite;
using Npgsql;

namespace Mailroom.Tests.Api;

/// <summary>
/// <c>/health</c> tells a load balancer or monitor whether this node can take mail: it answers 503 while the store
/// refuses writes (issue 10: SQLite said "readonly database" and <c>POST /email</c> answered 500 while /health said 200).
/// </summary>
public sealed class HealthTests : HostTests
{
    private async Task<(HttpStatusCode Code, JsonElement Body)> HealthAsync()
    {
        Host.Clock.Advance(TimeSpan.FromMinutes(1)); // past any cached answer
        var res = await Host.Client().GetAsync("/health");
        return (res.StatusCode, JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement);
    }

    [Fact]
    public async Task HealthAnswers503WhileTheStoreCannotWriteAnd200Afterwards()
    {
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync()).Code);
        if (TestDatabase.IsPostgres)
        {
            // The database turned read-only (as a standby, or an operator's ALTER), for connections opened from now on.
            var database = new NpgsqlConnectionStringBuilder(Host.Settings.Database).Database;
            await AdminAsync($"ALTER DATABASE {database} SET default_transaction_read_only = on");
            NpgsqlConnection.ClearAllPools();
            var (code, body) = await HealthAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
            Assert.Equal("Unavailable", body.GetProperty("Status").GetString());
            Assert.Contains("read-only", body.GetProperty("Reason").GetString());
            await AdminAsync($"ALTER DATABASE {database} RESET default_transaction_read_only");
            NpgsqlConnection.ClearAllPools();
        }
        else
        {
            // Another process holds the database's write lock for longer than any writer waits.
            var path = Host.App.Services.GetRequiredService<DatabaseSettings>().SqlitePath;
            await using var holder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
            await holder.OpenAsync();
            await using var command = holder.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE;";
            await command.ExecuteNonQueryAsync();
            var (code, body) = await HealthAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
            Assert.Equal("Unavailable", body.GetProperty("Status").GetString());
            Assert.Contains("locked", body.GetProperty("Reason").GetString(), StringComparison.OrdinalIgnoreCase);
            command.CommandText = "ROLLBACK;";
            await command.ExecuteNonQueryAsync();
        }

        var (again, ready) = await HealthAsync();
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal("Ready", ready.GetProperty("Status").GetString());
    }

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(DatabaseSettings.NormalizePostgres(TestDatabase.PostgresAdminConnection!));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
