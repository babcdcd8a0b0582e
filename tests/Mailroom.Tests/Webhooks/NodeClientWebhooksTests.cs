using Mailroom.Contracts;

namespace Mailroom.Tests.Webhooks;

/// <summary>Postmark's official Node client (tests/node, postmark 4.0.7) creates, lists, gets, edits and deletes
/// webhooks on a real <c>mailroom serve</c>: tests/node/webhooks.test.mjs must exit 0.</summary>
public sealed class NodeClientWebhooksTests
{
    [Fact]
    public async Task TheNodeClientManagesWebhooks()
    {
        NodeClient.RequireInstalled();
        await using var server = await MailroomProcess.StartAsync(["--roles", "api"]);
        var serverToken = (await server.NewServerAsync("Node webhooks", new { Name = "Hooks" })).ApiTokens[0];

        await NodeClient.RunAsync(server, "webhooks.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = serverToken });
    }
}
