using Mailroom.Tests.Infrastructure;
using Xunit;

namespace Mailroom.Tests.Api;

/// <summary>Postmark's official Node client (tests/node, postmark 4.x) against a real <c>mailroom serve</c> process:
/// tests/node/identities.test.mjs drives the Domains and Sender Signatures APIs and must exit 0.</summary>
public sealed class NodeClientIdentitiesTests
{
    [Fact]
    public async Task TheNodeClientDrivesDomainsAndSenderSignatures()
    {
        var nodeModules = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark");
        Assert.True(Directory.Exists(nodeModules), "Run `npm ci` in tests/node first (./test.sh does).");
        using var dns = TestDnsServer.Start(); // answers nothing: keeps the server's lookups on loopback
        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", dns.Address]);
        var account = await server.CreateAccountAsync("Node client");
        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", "identities.test.mjs")],
            environment: new Dictionary<string, string> { ["HOST"] = server.Host, ["ACCOUNT_TOKEN"] = account.AccountToken });
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
    }
}
