using System.Text.RegularExpressions;

namespace Mailroom.Tests.Cli;

/// <summary>The README's Quickstart, run as written against a real <c>mailroom serve</c>.</summary>
public sealed partial class ReadmeQuickstartTests
{
    [Fact]
    public async Task TheQuickstartSendsAFirstEmailAndShowsItsDeliveredEvent()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## Quickstart", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        var blocks = ShellBlock().Matches(section).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(2, blocks.Count); // the start command, then the client's commands
        Assert.Contains("serve --platform-domain mail.example.test", blocks[0]);

        await using var server = await MailroomProcess.StartAsync(["--platform-domain", "mail.example.test"]);
        // As written, except: the built mailroom.dll instead of `dotnet run` (same program, no second build), and the
        // test server's port and data folder instead of the defaults (MAILROOM_DATA, which the command line would override).
        var script = blocks[1]
            .Replace("dotnet run --project src/Mailroom --", $"dotnet {MailroomProcess.MailroomDll}", StringComparison.Ordinal)
            .Replace("http://127.0.0.1:5080", server.BaseUrl, StringComparison.Ordinal);
        var environment = new Dictionary<string, string> { ["MAILROOM_DATA"] = server.DataDirectory };
        if (server.Database is not null)
            environment["MAILROOM_DATABASE"] = server.Database;
        var result = await MailroomProcess.RunAsync("bash", ["-euo", "pipefail", "-c", script], environment: environment, timeout: TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.ToString() + "\n--- server ---\n" + server.Output);
        Assert.Equal("Sent ['Delivered']", result.StandardOutput.Trim().Split('\n')[^1].Trim());
    }

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();
}
