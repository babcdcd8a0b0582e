using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;

namespace Mailroom.Tests.Nodes;

/// <summary>
/// Nodes on one PostgreSQL share the Preparation queue: each round locks its rows, so two rounds running at once (two
/// nodes) take different messages and no message is DKIM-signed twice (the costly step) only for one copy to be thrown
/// away by the guarded update.
/// </summary>
public sealed class SharedPreparationTests
{
    [Fact]
    public async Task TwoRoundsAtOncePrepareDisjointMessages()
    {
        Assert.SkipWhen(!TestDatabase.IsPostgres, "Several nodes need PostgreSQL: set MAILROOM_TEST_DATABASE to a PostgreSQL connection string (SQLite is one file, one process).");
        await using var host = await MailroomHost.StartAsync();
        var t = await host.CreateTenantAsync();
        const int total = MessagePreparer.BatchSize + 100;
        foreach (var chunk in Enumerable.Range(0, total).Chunk(500))
            await t.ServerApi.PostAsJsonAsync("/email/batch", chunk.Select(i => new
            {
                From = "app@mailroom.test", To = $"r{i}@example.net", Subject = "Hi", TextBody = "Hello",
            }).ToArray()).OkJson();
        var preparer = host.App.Services.GetRequiredService<MessagePreparer>();

        var rounds = await Task.WhenAll(preparer.RunOnceAsync(CancellationToken.None), preparer.RunOnceAsync(CancellationToken.None));

        // Each round handled its own messages: together exactly the accepted ones, none twice.
        Assert.Equal(total, rounds.Sum());
        Assert.All(rounds, r => Assert.InRange(r, 1, MessagePreparer.BatchSize));
        var (stillAccepted, deliveries) = await host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            return (await db.OutboundMessages.CountAsync(m => m.Stage == MessageStage.Accepted), await db.Deliveries.CountAsync());
        });
        Assert.Equal(0, stillAccepted);
        Assert.Equal(total, deliveries);
    }
}
