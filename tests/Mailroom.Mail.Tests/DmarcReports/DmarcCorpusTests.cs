using Mailroom.Mail.DmarcReports;

namespace Mailroom.Mail.Tests.DmarcReports;

/// <summary>Real public reports from tests/corpus/dmarc (see its MANIFEST.tsv for origin and licence).</summary>
public class DmarcCorpusTests
{
    static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, "tests", "corpus", "dmarc");
    }

    public static TheoryData<string> Files() =>
        new(File.ReadAllLines(Path.Combine(Root(), "MANIFEST.tsv")).Skip(1).Select(l => l.Split('\t')[0]));

    static (List<AggregateReport> Reports, DmarcReportException? Error) Read(string file)
    {
        var reports = new List<AggregateReport>();
        try
        {
            using var input = File.OpenRead(Path.Combine(Root(), file));
            ReportPayloads.Extract(input, d => reports.Add(AggregateReportReader.Parse(d.Content)), name: Path.GetFileName(file));
            return (reports, null);
        }
        catch (DmarcReportException e)
        {
            return (reports, e);
        }
    }

    /// <summary>Files whose XML is broken on purpose; they are refused with a clear error (we do not guess).</summary>
    static readonly string[] Broken = ["aggregate/parsedmarc_invalid_utf_8.xml", "aggregate/parsedmarc_invalid_xml.xml"];

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryCorpusFileIsReadOrRefusedCleanly(string file)
    {
        var (reports, error) = Read(file);

        if (Broken.Contains(file))
        {
            Assert.NotNull(error);
            return;
        }
        Assert.Null(error);
        Assert.NotEmpty(reports);
        foreach (var report in reports)
        {
            Assert.NotNull(report.Header.Domain);
            Assert.NotNull(report.Header.ReportId);
            Assert.All(report.Records, r => Assert.True(r.SourceIpVersion is 4 or 6, $"{file}: source ip '{r.SourceIp}'"));
        }
    }

    [Fact]
    public void ReadsTheLargeRealReportCompletely()
    {
        var (reports, error) = Read("aggregate/parsedmarc__large-example.com_1711897200_1711983600.xml");
        Assert.Null(error);
        var report = Assert.Single(reports);
        Assert.Equal(2286, report.Records.Count);
        // Every row of this reporter's SPF results lacks a domain.
        Assert.All(report.Records, r => Assert.All(r.Spf, s => Assert.Null(s.Domain)));
    }

    [Fact]
    public void ReadsTheIkeaReportInsideAnUnclosedSchemaWrapper()
    {
        var (reports, error) = Read("aggregate/parsedmarc_ikea.com_example.de_1538690400_1538776800.xml");
        Assert.Null(error);
        Assert.Equal("example.de", Assert.Single(reports).Header.Domain);
    }

    [Fact]
    public void ReadsTheRfc9990Sample()
    {
        var (reports, error) = Read("aggregate/parsedmarc_rfc9990-sample.xml");
        Assert.Null(error);
        Assert.NotEmpty(Assert.Single(reports).Records);
    }
}
