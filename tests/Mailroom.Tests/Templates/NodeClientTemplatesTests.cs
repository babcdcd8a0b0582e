using System.Globalization;
using Mailroom.Contracts;

namespace Mailroom.Tests.Templates;

/// <summary>Postmark's official Node client (tests/node/templates.test.mjs) against a real <c>mailroom serve</c> process.</summary>
public sealed class NodeClientTemplatesTests
{
    [Fact]
    public async Task TheNodeClientManagesPushesAndSendsWithTemplates()
    {
        NodeClient.RequireInstalled();
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink();
        await using var server = await NodeClient.StartRelayingAsync(dns, sink);
        var account = await server.CreateAccountAsync("Node templates");
        using var http = server.AccountApi(account.AccountToken);
        var main = await http.CreateServerAsync(new { Name = "Production" });
        var staging = await http.CreateServerAsync(new { Name = "Staging" });
        await NodeClient.RunAsync(server, "templates.test.mjs", new Dictionary<string, string>
            {
                ["ACCOUNT_TOKEN"] = account.AccountToken,
                ["SERVER_TOKEN"] = main.ApiTokens[0],
                ["SERVER_ID"] = main.ID.ToString(CultureInfo.InvariantCulture),
                ["STAGING_TOKEN"] = staging.ApiTokens[0],
                ["STAGING_ID"] = staging.ID.ToString(CultureInfo.InvariantCulture),
                ["FROM"] = "app@mailroom.test",
            });
        Assert.Contains(sink.Messages, m => m.Recipients.Contains("jo@example.net"));
    }
}
