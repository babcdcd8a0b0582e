using System.Globalization;
using System.Net.Http.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using Xunit;

namespace Mailroom.Tests.Templates;

/// <summary>Postmark's official Node client (tests/node/templates.test.mjs) against a real <c>mailroom serve</c> process.</summary>
public sealed class NodeClientTemplatesTests
{
    [Fact]
    public async Task TheNodeClientManagesPushesAndSendsWithTemplates()
    {
        Assert.True(Directory.Exists(Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark")),
            "Run `npm ci` in tests/node first (./test.sh does).");
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink();
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address,
            "--relay", $"127.0.0.1:{sink.Port}", "--roles", "all"]);
        var account = await server.CreateAccountAsync("Node templates");
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var main = (await (await http.PostAsJsonAsync("/servers", new { Name = "Production" })).Content.ReadFromJsonAsync<ServerResponse>())!;
        var staging = (await (await http.PostAsJsonAsync("/servers", new { Name = "Staging" })).Content.ReadFromJsonAsync<ServerResponse>())!;
        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "templates.test.mjs")],
            environment: new Dictionary<string, string>
            {
                ["HOST"] = server.Host,
                ["ACCOUNT_TOKEN"] = account.AccountToken,
                ["SERVER_TOKEN"] = main.ApiTokens[0],
                ["SERVER_ID"] = main.ID.ToString(CultureInfo.InvariantCulture),
                ["STAGING_TOKEN"] = staging.ApiTokens[0],
                ["STAGING_ID"] = staging.ID.ToString(CultureInfo.InvariantCulture),
                ["FROM"] = "app@mailroom.test",
            });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
        Assert.Contains(sink.Messages, m => m.Recipients.Contains("jo@example.net"));
    }
}
