using System.Net.Http.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using Xunit;

namespace Mailroom.Tests.Api;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) against a real <c>mailroom serve</c> process.</summary>
public sealed class NodeClientServersAndSendingTests
{
    private static void RequireNodeModules() =>
        Assert.True(Directory.Exists(Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark")),
            "Run `npm ci` in tests/node first (./test.sh does).");

    [Fact]
    public async Task TheAccountAndServerClientsDriveServersAndStreams()
    {
        RequireNodeModules();
        using var dns = TestDnsServer.Start();
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address]);
        var account = await server.CreateAccountAsync("Node servers");
        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "servers.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["ACCOUNT_TOKEN"] = account.AccountToken });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
    }

    [Fact]
    public async Task TheServerClientSendsAndReadsMessagesBack()
    {
        RequireNodeModules();
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink();
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address,
            "--relay", $"127.0.0.1:{sink.Port}", "--roles", "all"]);
        var account = await server.CreateAccountAsync("Node sending");
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var created = await (await http.PostAsJsonAsync("/servers", new { Name = "Sender" })).Content.ReadFromJsonAsync<ServerResponse>();
        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "sending.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["SERVER_TOKEN"] = created!.ApiTokens[0], ["FROM"] = "app@mailroom.test" });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
        Assert.Contains(sink.Messages, m => m.Recipients.Contains("jo@example.net"));
    }
}
