using System.Net.Http.Json;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using Mailroom.Tests.Webhooks;
using MailKit.Net.Smtp;
using MimeKit;
using Xunit;

namespace Mailroom.Tests.Inbound;

/// <summary>Postmark's official Node client (tests/node, postmark 4.0.7) reads inbound messages, retries a failed one,
/// bypasses a blocked one and manages inbound rules on a real <c>mailroom serve</c> with the MX listener:
/// tests/node/inbound.test.mjs must exit 0, and the receiver then gets the retried and the bypassed message.</summary>
public sealed class NodeClientInboundTests
{
    [Fact]
    public async Task TheNodeClientReadsRetriesBypassesAndManagesRules()
    {
        var nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark");
        Assert.True(Directory.Exists(nodeModules), "Run `npm ci` in tests/node first (./test.sh does).");
        using var dns = TestDnsServer.Start();
        dns.AddTxt("sender.example", "v=spf1 ip4:127.0.0.1 -all");
        await using var receiver = await WebhookReceiver.StartAsync();
        var firstPost = true;
        receiver.Respond = (_, _) =>
        {
            var status = firstPost ? 403 : 200;
            firstPost = false;
            return (status, null);
        };
        var mxPort = SmtpSink.FreeTcpPort();
        await using var server = await MailroomProcess.StartAsync(["--roles", "api,mx,delivery", "--mx", $"127.0.0.1:{mxPort}", "--dns", dns.Address,
            "--inbound-host", "inbound.mailroom.test", "--allow-private-webhooks", "--platform-domain", "mailroom.test", "--delivery-port", "9"]);
        var account = await server.CreateAccountAsync("Node inbound");
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var created = await http.PostAsJsonAsync("/servers", new { Name = "Inbound", InboundHookUrl = receiver.BaseUrl + "/inbound" });
        created.EnsureSuccessStatusCode();
        var srv = (await created.Content.ReadFromJsonAsync<ServerResponse>())!;
        using var api = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", srv.ApiTokens[0]);
        await api.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "blocked.example" }).OkJson();

        using (var smtp = new SmtpClient())
        {
            await smtp.ConnectAsync("127.0.0.1", mxPort, MailKit.Security.SecureSocketOptions.None);
            var to = $"{srv.InboundHash}+order-42@inbound.mailroom.test";
            await smtp.SendAsync(Message("jane@sender.example", to, "Help with order 42", "My order has not arrived."));
            await smtp.SendAsync(Message("spammer@blocked.example", srv.InboundAddress, "Cheap watches", "Buy now."));
            await smtp.DisconnectAsync(true);
        }
        // The first is posted once (403: Failed at once), the second blocked.
        await Eventually.True(async () =>
        {
            var list = await api.GetAsync("/messages/inbound?count=10&offset=0").OkJson();
            var statuses = list.GetProperty("InboundMessages").EnumerateArray().Select(m => m.GetProperty("Status").GetString()).Order().ToList();
            return statuses.SequenceEqual(["Blocked", "Failed"]);
        }, timeoutSeconds: 60, because: "one message Failed (403) and one Blocked");

        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "inbound.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["SERVER_TOKEN"] = srv.ApiTokens[0] });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);

        // The retried and the bypassed message reach the receiver.
        await Eventually.True(() => Task.FromResult(receiver.At("/inbound").Count >= 3), timeoutSeconds: 60, because: "retry and bypass posted");
        var subjects = receiver.At("/inbound").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Subject").GetString()).ToList();
        Assert.Equal("Help with order 42", subjects[0]);
        Assert.Equal(["Cheap watches", "Help with order 42"], subjects.Skip(1).Order());
    }

    private static MimeMessage Message(string from, string to, string subject, string text)
    {
        var m = new MimeMessage { Subject = subject };
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse(to));
        m.Body = new TextPart("plain") { Text = text };
        return m;
    }
}
