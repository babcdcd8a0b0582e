namespace Mailroom.Tests.Operations;

/// <summary>
/// The first start of <c>mailroom serve</c> on an empty store (a new data folder; on PostgreSQL, a new database) logs
/// no error: an operator's first look at Mailroom must not be a screen of failures that were none. Two had appeared on
/// PostgreSQL: Data Protection's hosted service read its key ring (a table of the store) before the migrator had made
/// it, and Npgsql's check for EF's migration history table is a SELECT that is logged as failing when it is absent.
/// </summary>
public sealed class FirstStartTests
{
    [Fact]
    public async Task AFirstStartOnAnEmptyStoreLogsNoError()
    {
        await using var server = await MailroomProcess.StartAsync();
        // Ready: migrated, first keys made; one request through the store and the key ring (a server's token is sealed).
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        await server.NewServerAsync("First", new { Name = "First" });
        var output = server.Output;
        Assert.Contains("Database ready", output);
        var errors = output.Split('\n').Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, $"{server.Store}: the first start logged errors:\n" + string.Join("\n", errors));
    }
}
