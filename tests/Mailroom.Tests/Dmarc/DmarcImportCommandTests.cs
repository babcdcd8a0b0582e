using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Dmarc;

namespace Mailroom.Tests.Dmarc;

public sealed class DmarcImportCommandTests
{
    private static Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args) => InProcessCli.InvokeAsync(args);

    [Fact]
    public async Task ImportsReportFilesOnceAndRefusesUnknownDomains()
    {
        var data = TestPaths.NewTempDirectory();
        var (missing, _, missingError) = await InvokeAsync("dmarc", "import", "--data", data, "--domain", "wildbit.example", "nothing.xml");
        Assert.Equal(2, missing);
        Assert.Contains("not monitored", missingError);

        await using (var services = new ServiceCollection().AddLogging().AddMailroomCore(new Mailroom.Cli.MailroomSettings { DataDirectory = data }).BuildServiceProvider())
        await using (var scope = services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<DmarcService>().CreateAsync(new DmarcCreateRecordRequest("ops@wildbit.example", "wildbit.example"), default);

        var gz = Path.Combine(data, "google.com!wildbit.example!1700000000!1700086399.xml.gz");
        await File.WriteAllBytesAsync(gz, DmarcTestReports.Gzip(DmarcTestReports.Xml("wildbit.example", "cli-1", rows: 4)));
        var bad = Path.Combine(data, "bad.xml");
        await File.WriteAllTextAsync(bad, "<feedback><report_metadata>", Encoding.UTF8);

        var (exit, output, _) = await InvokeAsync("dmarc", "import", "--data", data, "--domain", "WildBit.example", gz, gz, bad);

        Assert.Equal(1, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("1 report(s) stored, 0 duplicate(s)", lines[0]);
        Assert.Contains("0 report(s) stored, 1 duplicate(s)", lines[1]);
        Assert.Contains("refused", lines[2]);

        await using var check = new ServiceCollection().AddLogging().AddMailroomCore(new Mailroom.Cli.MailroomSettings { DataDirectory = data }).BuildServiceProvider();
        await using var s = check.CreateAsyncScope();
        var db = s.ServiceProvider.GetRequiredService<MailroomDb>();
        var report = Assert.Single(db.DmarcReports);
        Assert.Equal(4, report.RecordCount);
        Assert.Equal(4, db.DmarcReportRows.Count());
    }
}
