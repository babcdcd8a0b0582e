using System.Net.Http.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using Xunit;

namespace Mailroom.Tests.Stats;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) reads every Stats endpoint of a real
/// <c>mailroom serve --roles all</c> that relayed two tracked sends to a loopback sink, one refused with 550 5.1.1:
/// tests/node/stats.test.mjs must exit 0.</summary>
public sealed class NodeClientStatsTests
{
    [Fact]
    public async Task TheNodeClientReadsEveryStatsEndpoint()
    {
        var nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark");
        Assert.True(Directory.Exists(nodeModules), "Run `npm ci` in tests/node first (./test.sh does).");
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        sink.RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 <gone@example.net>: User unknown") : null;
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address,
            "--roles", "all", "--relay", $"127.0.0.1:{sink.Port}"]);
        var account = await server.CreateAccountAsync("Node stats");

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var created = await http.PostAsJsonAsync("/servers", new { Name = "Stats" });
        created.EnsureSuccessStatusCode();
        var serverToken = (await created.Content.ReadFromJsonAsync<ServerResponse>())!.ApiTokens[0];
        using var api = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", serverToken);
        foreach (var to in new[] { "jo@example.net", "gone@example.net" })
            await api.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = "Hi", TextBody = "Hi", Tag = "welcome", TrackOpens = true }).OkJson();

        // The workers run on the real clock: wait for the 550's bounce.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.GetAsync("/bounces?count=1&offset=0").OkJson()).GetProperty("TotalCount").GetInt32() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no bounce within 30 s\n" + server.Output);
            await Task.Delay(200);
        }

        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "stats.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["SERVER_TOKEN"] = serverToken });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
    }
}
