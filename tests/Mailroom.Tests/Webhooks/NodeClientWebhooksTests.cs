using System.Net.Http.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using Xunit;

namespace Mailroom.Tests.Webhooks;

/// <summary>Postmark's official Node client (tests/node, postmark 4.0.7) creates, lists, gets, edits and deletes
/// webhooks on a real <c>mailroom serve</c>: tests/node/webhooks.test.mjs must exit 0.</summary>
public sealed class NodeClientWebhooksTests
{
    [Fact]
    public async Task TheNodeClientManagesWebhooks()
    {
        var nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark");
        Assert.True(Directory.Exists(nodeModules), "Run `npm ci` in tests/node first (./test.sh does).");
        await using var server = await MailroomProcess.StartAsync(["--roles", "api"]);
        var account = await server.CreateAccountAsync("Node webhooks");
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var created = await http.PostAsJsonAsync("/servers", new { Name = "Hooks" });
        created.EnsureSuccessStatusCode();
        var serverToken = (await created.Content.ReadFromJsonAsync<ServerResponse>())!.ApiTokens[0];

        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "webhooks.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["SERVER_TOKEN"] = serverToken });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
    }
}
