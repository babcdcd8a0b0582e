using Mailroom.Contracts;

namespace Mailroom.Tests.Api;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) against a real <c>mailroom serve --roles all</c>
/// relaying to a loopback sink that refuses one address with 550 5.1.1: tests/node/bounces.test.mjs reads the bounce
/// and manages suppressions, and must exit 0.</summary>
public sealed class NodeClientBouncesTests
{
    [Fact]
    public async Task TheNodeClientReadsBouncesAndManagesSuppressions()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start();
        await using var sink = NodeClient.SinkRefusingGone();
        await using var server = await NodeClient.StartRelayingAsync(dns, sink);
        var serverToken = await NodeClient.NewServerTokenAsync(server, "Bounces");
        using var api = server.ServerApi(serverToken);
        await api.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "gone@example.net", Subject = "Hi", TextBody = "Hi" }).OkJson();

        // The first attempt's 550.
        await NodeClient.WaitForFirstBounceAsync(server, api);

        await NodeClient.RunAsync(server, "bounces.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = serverToken, ["BOUNCED"] = "gone@example.net" });
    }
}
