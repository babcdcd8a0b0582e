using Mailroom.Contracts;
using Mailroom.Tests.Webhooks;
using MimeKit;

namespace Mailroom.Tests.Inbound;

/// <summary>Postmark's official Node client (tests/node, postmark 4.0.7) reads inbound messages, retries a failed one,
/// bypasses a blocked one and manages inbound rules on a real <c>mailroom serve</c> with the MX listener:
/// tests/node/inbound.test.mjs must exit 0, and the receiver then gets the retried and the bypassed message.</summary>
public sealed class NodeClientInboundTests
{
    [Fact]
    public async Task TheNodeClientReadsRetriesBypassesAndManagesRules()
    {
        NodeClient.RequireInstalled();
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
        var srv = await server.NewServerAsync("Node inbound", new { Name = "Inbound", InboundHookUrl = receiver.BaseUrl + "/inbound" });
        using var api = server.ServerApi(srv.ApiTokens[0]);
        await api.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "blocked.example" }).OkJson();

        using (var smtp = await RemoteMta.ConnectAsync(mxPort))
        {
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

        await NodeClient.RunAsync(server, "inbound.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = srv.ApiTokens[0] });

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
