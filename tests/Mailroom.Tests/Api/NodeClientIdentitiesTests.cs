namespace Mailroom.Tests.Api;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) against a real <c>mailroom serve</c> process:
/// tests/node/identities.test.mjs drives the Domains and Sender Signatures APIs and must exit 0.</summary>
public sealed class NodeClientIdentitiesTests
{
    [Fact]
    public async Task TheNodeClientDrivesDomainsAndSenderSignatures()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start(); // answers nothing: keeps the server's lookups on loopback
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address]);
        var account = await server.CreateAccountAsync("Node client");
        await NodeClient.RunAsync(server, "identities.test.mjs", new Dictionary<string, string> { ["ACCOUNT_TOKEN"] = account.AccountToken });
    }
}
