using Mailroom.Cli;

namespace Mailroom.Tests.Cli;

/// <summary><c>mailroom bounces parse [--json] FILE...</c> on files of the corpus in tests/corpus.</summary>
public class BouncesParseCommandTests
{
    private static string CorpusFile(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "corpus", name);

    private static Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args) => InProcessCli.InvokeAsync(args);

    [Fact]
    public async Task JsonPrintsOneObjectPerFileWithTypeAndRecipients()
    {
        var dsn = CorpusFile("bounces/kumomta_rfc3464_2.eml");
        var challenge = CorpusFile("bounces/mdsbp_boxbe-cr.eml");
        var complaint = CorpusFile("complaints/sisimai_arf-01.eml");

        var (exit, output, error) = await InvokeAsync("bounces", "parse", "--json", dsn, challenge, complaint);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        var objects = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        foreach (var o in objects)
            Assert.Equal(["File", "IsBounce", "Type", "FeedbackType", "Recipients"], o.EnumerateObject().Select(p => p.Name));

        // RFC 3464 appendix example: three recipients, failed / delayed / failed.
        Assert.Equal(dsn, objects[0].GetProperty("File").GetString());
        Assert.True(objects[0].GetProperty("IsBounce").GetBoolean());
        Assert.Equal("HardBounce", objects[0].GetProperty("Type").GetString());
        var recipients = objects[0].GetProperty("Recipients").EnumerateArray().ToArray();
        Assert.Equal(["arathib@vnet.ibm.com", "johnh@hpnjld.njd.hp.com", "wsnell@sdcc13.ucsd.edu"], recipients.Select(r => r.GetProperty("Email").GetString()));
        // The delayed one: "host name lookup failure", a temporary DNS error.
        Assert.Equal(["HardBounce", "DnsError", "HardBounce"], recipients.Select(r => r.GetProperty("Type").GetString()));
        Assert.Equal("4.0.0", recipients[1].GetProperty("Status").GetString());
        Assert.Equal(550, recipients[2].GetProperty("SmtpCode").GetInt32());
        Assert.Contains("user unknown", recipients[2].GetProperty("Diagnostic").GetString());
        Assert.Equal(JsonValueKind.Null, objects[0].GetProperty("FeedbackType").ValueKind);

        // Boxbe challenge: not a bounce.
        Assert.False(objects[1].GetProperty("IsBounce").GetBoolean());
        Assert.Equal("ChallengeVerification", objects[1].GetProperty("Type").GetString());

        // ARF complaint: its Feedback-Type.
        Assert.False(objects[2].GetProperty("IsBounce").GetBoolean());
        Assert.Equal("SpamComplaint", objects[2].GetProperty("Type").GetString());
        Assert.Equal("abuse", objects[2].GetProperty("FeedbackType").GetString());
    }

    [Fact]
    public async Task WithoutJsonPrintsAReadableLinePerFile()
    {
        var file = CorpusFile("bounces/kumomta_rfc3464_1.eml");

        var (exit, output, _) = await InvokeAsync("bounces", "parse", file);

        Assert.Equal(0, exit);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"{file}: Transient (bounce): louisl@larry.slip.umd.edu Transient 4.0.0", line);
    }

    [Fact]
    public async Task UnreadableFileIsReportedAndTheOthersStillParsed()
    {
        var missing = Path.Combine(TestPaths.NewTempDirectory(), "missing.eml");
        var file = CorpusFile("bounces/kumomta_rfc3464_1.eml");

        var (exit, output, error) = await InvokeAsync("bounces", "parse", "--json", missing, file);

        Assert.Equal(1, exit);
        Assert.Contains("missing.eml", error);
        Assert.Equal(file, JsonDocument.Parse(output.Trim()).RootElement.GetProperty("File").GetString());
    }

    [Fact]
    public async Task RunsAsTheMailroomExecutable()
    {
        var file = CorpusFile("bounces/kumomta_rfc3464_3.eml");

        var result = await MailroomProcess.RunAsync("dotnet", [MailroomProcess.MailroomDll, "bounces", "parse", "--json", file]);

        Assert.Equal(0, result.ExitCode);
        var o = JsonDocument.Parse(result.StandardOutput.Trim()).RootElement;
        Assert.True(o.GetProperty("IsBounce").GetBoolean());
        Assert.Equal("nair_s", Assert.Single(o.GetProperty("Recipients").EnumerateArray()).GetProperty("Email").GetString());
    }
}
