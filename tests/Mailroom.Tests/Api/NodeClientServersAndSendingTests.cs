using Mailroom.Contracts;

namespace Mailroom.Tests.Api;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) against a real <c>mailroom serve</c> process.</summary>
public sealed class NodeClientServersAndSendingTests
{
    [Fact]
    public async Task TheAccountAndServerClientsDriveServersAndStreams()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start();
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address]);
        var account = await server.CreateAccountAsync("Node servers");
        await NodeClient.RunAsync(server, "servers.test.mjs", new Dictionary<string, string> { ["ACCOUNT_TOKEN"] = account.AccountToken });
    }

    [Fact]
    public async Task TheServerClientSendsAndReadsMessagesBack()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink();
        await using var server = await NodeClient.StartRelayingAsync(dns, sink);
        var created = await server.NewServerAsync("Node sending", new { Name = "Sender" });
        await NodeClient.RunAsync(server, "sending.test.mjs", new Dictionary<string, string> { ["SERVER_TOKEN"] = created.ApiTokens[0], ["FROM"] = "app@mailroom.test" });
        Assert.Contains(sink.Messages, m => m.Recipients.Contains("jo@example.net"));
    }
}
