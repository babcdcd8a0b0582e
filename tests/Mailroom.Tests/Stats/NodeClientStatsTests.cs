using Mailroom.Contracts;

namespace Mailroom.Tests.Stats;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) reads every Stats endpoint of a real
/// <c>mailroom serve --roles all</c> that relayed two tracked sends to a loopback sink, one refused with 550 5.1.1:
/// tests/node/stats.test.mjs must exit 0.</summary>
public sealed class NodeClientStatsTests
{
    [Fact]
    public async Task TheNodeClientReadsEveryStatsEndpoint()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start();
        await using var sink = NodeClient.SinkRefusingGone();
        await using var server = await NodeClient.StartRelayingAsync(dns, sink);
        var serverToken = await NodeClient.NewServerTokenAsync(server, "Stats");
        using var api = server.ServerApi(serverToken);
        foreach (var to in new[] { "jo@example.net", "gone@example.net" })
            await api.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = "Hi", TextBody = "Hi", Tag = "welcome", TrackOpens = true }).OkJson();

        // The 550's bounce.
        await NodeClient.WaitForFirstBounceAsync(server, api);

        await NodeClient.RunAsync(server, "stats.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = serverToken });
    }
}
