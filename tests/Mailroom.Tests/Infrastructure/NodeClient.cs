namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Postmark's official Node client (tests/node, postmark 4.x) run against a real <c>mailroom serve</c>: the installed
/// package, and the script's verdict (exit 0 and "all assertions passed").
/// </summary>
public static class NodeClient
{
    /// <summary>Fails with the command to run when <c>npm ci</c> has not been run in tests/node.</summary>
    public static void RequireInstalled() =>
        Assert.True(Directory.Exists(Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "postmark")),
            "Run `npm ci` in tests/node first (./test.sh does).");

    /// <summary>A loopback sink that refuses gone@example.net with 550 5.1.1 (a hard bounce) and accepts everyone else.</summary>
    public static SmtpSink SinkRefusingGone() =>
        new(tls: false) { RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 <gone@example.net>: User unknown") : null };

    /// <summary><c>mailroom serve --roles all</c> relaying every delivery to <paramref name="sink"/>, resolving through
    /// <paramref name="dns"/>: nothing leaves loopback.</summary>
    public static Task<MailroomProcess> StartRelayingAsync(TestDnsServer dns, SmtpSink sink) =>
        MailroomProcess.StartAsync(ProcessApi.RelayingArgs(dns, sink));

    /// <summary>The API token of a server named <paramref name="name"/> on a new account of <paramref name="server"/>.</summary>
    public static async Task<string> NewServerTokenAsync(MailroomProcess server, string name) =>
        (await server.NewServerAsync("Node " + name, new { Name = name })).ApiTokens[0];

    /// <summary>The workers run on the real clock: waits up to 30 s for the server's first bounce.</summary>
    public static async Task WaitForFirstBounceAsync(MailroomProcess server, HttpClient serverApi)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await serverApi.GetAsync("/bounces?count=1&offset=0").OkJson()).GetProperty("TotalCount").GetInt32() == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no bounce within 30 s\n" + server.Output);
            await Task.Delay(200);
        }
    }

    /// <summary>Runs tests/node/<paramref name="script"/> with HOST naming <paramref name="server"/> and the variables
    /// given; it must exit 0 and print "all assertions passed".</summary>
    public static async Task RunAsync(MailroomProcess server, string script, IReadOnlyDictionary<string, string> environment)
    {
        var variables = new Dictionary<string, string>(environment) { ["HOST"] = server.Host };
        var result = await MailroomProcess.RunAsync("node", [Path.Combine("tests", "node", script)], environment: variables);
        Assert.True(result.ExitCode == 0, $"node failed: {result}\n--- mailroom serve ---\n{server.Output}");
        Assert.Contains("all assertions passed", result.StandardOutput);
    }
}
