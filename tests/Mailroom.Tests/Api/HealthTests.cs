using System.Net;
using System.Text.Json;
using Mailroom.Core.Storage;
using Mailroom.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Mailroom.Tests.Api;

/// <summary>
/// <c>/health</c> tells a load balancer or monitor whether this node can take mail: it answers 503 while the store
/// refuses writes (issue 10: SQLite said "readonly database" and <c>POST /email</c> answered 500 while /health said 200).
/// </summary>
public sealed class HealthTests : IAsyncLifetime
{
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await MailroomHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task HealthAnswers503WhileTheStoreCannotWriteAnd200Afterwards()
    {
        Assert.SkipWhen(TestDatabase.IsPostgres, "holds SQLite's write lock from another connection");
        Assert.Equal(HttpStatusCode.OK, (await _host.Client().GetAsync("/health")).StatusCode);

        // Another process holds the database's write lock for longer than any writer waits.
        var path = _host.App.Services.GetRequiredService<DatabaseSettings>().SqlitePath;
        await using (var holder = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            await holder.OpenAsync();
            await using (var begin = holder.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE;";
                await begin.ExecuteNonQueryAsync();
            }
            _host.Clock.Advance(TimeSpan.FromMinutes(1)); // past any cached answer
            var res = await _host.Client().GetAsync("/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, res.StatusCode);
            var body = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Unavailable", body.GetProperty("Status").GetString());
            Assert.Contains("locked", body.GetProperty("Reason").GetString(), StringComparison.OrdinalIgnoreCase);
            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        _host.Clock.Advance(TimeSpan.FromMinutes(1));
        var again = await _host.Client().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("Ready", JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("Status").GetString());
    }
}
