using System.Text;
using Mailroom.Mail.DmarcReports;

namespace Mailroom.Mail.Tests.DmarcReports;

public class AggregateReportReaderTests
{
    internal static GeneratedReportStream Generated(int rows) => new(rows);

    [Fact]
    public void ReadsMetadataPolicyAndEveryAuthResultOfARow()
    {
        var report = AggregateReportReader.Parse(DmarcSamples.Utf8(DmarcSamples.Report()));

        var h = report.Header;
        Assert.Equal("Reporter Inc.", h.OrgName);
        Assert.Equal("dmarc@reporter.example", h.Email);
        Assert.Equal("r-1", h.ReportId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), h.Begin);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700086399), h.End); // whitespace around the integer tolerated
        Assert.Equal("example.com", h.Domain);
        Assert.Equal(("r", "s", "none", "quarantine", 100), (h.Adkim, h.Aspf, h.Policy, h.SubdomainPolicy, h.Percentage));

        var row = Assert.Single(report.Records);
        Assert.Equal(("192.0.2.1", 4, 1L), (row.SourceIp, row.SourceIpVersion, row.Count));
        Assert.Equal(("none", "pass", "fail"), (row.Disposition, row.PolicyDkim, row.PolicySpf)); // "Fail" compared without case
        Assert.Equal(2, row.Dkim.Count);
        Assert.Equal(new DkimAuthResult("esp.example", "s2", "fail", null), row.Dkim[1]);
        Assert.Equal(new SpfAuthResult("bounce.esp.example", "mfrom", "softfail", null), Assert.Single(row.Spf));
    }

    [Theory]
    [InlineData("")]
    [InlineData(DmarcSamples.Rfc9990Namespace)]
    [InlineData("http://dmarc.org/dmarc-xml/0.1")]
    [InlineData("http://dmarc.org/dmarc-xml/0.2")]
    public void ReadsReportsWithAndWithoutNamespace(string ns)
    {
        var report = AggregateReportReader.Parse(DmarcSamples.Utf8(DmarcSamples.Report(ns, records: 3)));

        Assert.Equal(ns, report.Header.Namespace);
        Assert.Equal(3, report.Records.Count);
        Assert.Equal("example.com", report.Header.Domain);
    }

    [Fact]
    public void ReadsDmarcbisFieldsAndSkipsExtensionsAndPrefixedElements()
    {
        var xml = $"""
            <?xml version="1.0"?>
            <feedback xmlns="{DmarcSamples.Rfc9990Namespace}" xmlns:arc="urn:example:arc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
              <report_metadata><org_name>GMX</org_name><email>a@gmx.example</email><report_id>x</report_id>
                <generator>Reporter 2.1</generator><date_range><begin>1</begin><end>1</end></date_range></report_metadata>
              <policy_published><domain>Example.COM.</domain><p>reject</p><np>reject</np><testing>n</testing><discovery_method>treewalk</discovery_method></policy_published>
              <extension><arc:thing><arc:deep>1</arc:deep></arc:thing></extension>
              <record>
                <row><source_ip>2001:DB8::1</source_ip><count>5</count>
                  <policy_evaluated><disposition>pass</disposition><dkim>pass</dkim><spf>pass</spf>
                    <reason><type>policy_test_mode</type><comment>t=y</comment></reason><reason></reason></policy_evaluated></row>
                <identifiers><header_from>example.com</header_from></identifiers>
                <auth_results><spf><domain>example.com</domain><result>Experimental-Value</result></spf></auth_results>
                <arc:extra>ignored</arc:extra>
              </record>
            </feedback>
            """;

        var report = AggregateReportReader.Parse(DmarcSamples.Utf8(xml));

        Assert.Equal(("Reporter 2.1", "example.com", "reject", "n", "treewalk"),
            (report.Header.Generator, report.Header.Domain, report.Header.NonexistentSubdomainPolicy, report.Header.Testing,
                report.Header.DiscoveryMethod));
        var row = Assert.Single(report.Records);
        Assert.Equal(("2001:db8::1", 6), (row.SourceIp, row.SourceIpVersion));
        Assert.Equal(new PolicyOverrideReason("policy_test_mode", "t=y"), Assert.Single(row.Reasons)); // empty reason dropped
        Assert.Equal("experimental-value", Assert.Single(row.Spf).Result); // unknown values kept
        Assert.Null(row.Spf[0].Scope);
    }

    [Fact]
    public void WritesIpv4MappedAddressesAsIpv4()
    {
        var xml = DmarcSamples.Report().Replace("192.0.2.1<", "::ffff:198.51.100.7<");
        Assert.Equal(("198.51.100.7", 4), (AggregateReportReader.Parse(DmarcSamples.Utf8(xml)).Records[0].SourceIp,
            AggregateReportReader.Parse(DmarcSamples.Utf8(xml)).Records[0].SourceIpVersion));
    }

    [Fact]
    public void ToleratesBomLeadingBlankLinesAndTrailingNuls()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat("\r\n\n  "u8.ToArray()).Concat(DmarcSamples.Utf8(DmarcSamples.Report()))
            .Concat(new byte[64]).ToArray();

        Assert.Single(AggregateReportReader.Parse(bytes).Records);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void ReadsUtf16(bool littleEndian, bool withoutBom)
    {
        var encoding = new UnicodeEncoding(!littleEndian, !withoutBom);
        var text = "\n" + DmarcSamples.Report().Replace("encoding=\"UTF-8\"", "encoding=\"UTF-16\"").Replace("Reporter Inc.", "Répörter");
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(text)).ToArray();

        var report = AggregateReportReader.Parse(bytes);

        Assert.Equal("Répörter", report.Header.OrgName);
        Assert.Single(report.Records);
    }

    [Fact]
    public void KeepsPredefinedEntities()
    {
        var xml = DmarcSamples.Report().Replace("Reporter Inc.", "&quot;Back&quot; &amp; Co");
        Assert.Equal("\"Back\" & Co", AggregateReportReader.Parse(DmarcSamples.Utf8(xml)).Header.OrgName);
    }

    [Fact]
    public void RefusesExternalEntities()
    {
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
            <feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>
            """;
        var e = Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(DmarcSamples.Utf8(xml)));
        Assert.Contains("DTD", e.Message);
    }

    [Fact]
    public void RefusesBillionLaughs()
    {
        var entities = string.Concat(Enumerable.Range(1, 9).Select(i =>
            $"<!ENTITY lol{i} \"{string.Concat(Enumerable.Repeat($"&lol{i - 1};", 10))}\">"));
        var xml = $"<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY lol0 \"lol\">{entities}]><feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>";
        Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(DmarcSamples.Utf8(xml)));
    }

    [Fact]
    public void RefusesDeepNesting()
    {
        var xml = DmarcSamples.Report(extraRecordXml: string.Concat(Enumerable.Repeat("<x>", 100)) + string.Concat(Enumerable.Repeat("</x>", 100)));
        var e = Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(DmarcSamples.Utf8(xml)));
        Assert.Contains("deeper", e.Message);
    }

    [Fact]
    public void RefusesMoreRecordsThanTheLimit()
    {
        var xml = DmarcSamples.Utf8(DmarcSamples.Report(records: 11));
        var e = Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(xml, new DmarcReportLimits { MaxRecords = 10 }));
        Assert.Contains("more than 10 records", e.Message);
    }

    [Theory]
    [InlineData("<feedback><report_metadata><org_name>x</org_name>")]
    [InlineData("<feedback><report_metadata><org_name>a < b</org_name></report_metadata></feedback>")]
    [InlineData("<invoice><total>1</total></invoice>")]
    [InlineData("")]
    public void RefusesMalformedOrForeignXmlCleanly(string xml)
    {
        Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(DmarcSamples.Utf8(xml)));
    }

    [Fact]
    public void RefusesNonNumericCount()
    {
        var xml = DmarcSamples.Report().Replace("<count>1</count>", "<count>many</count>");
        Assert.Contains("<count>", Assert.Throws<DmarcReportException>(() => AggregateReportReader.Parse(DmarcSamples.Utf8(xml))).Message);
    }

    [Fact]
    public void AcceptsZeroRecordsAndEmptyElements()
    {
        var xml = DmarcSamples.Header() + "<record/><record><row><source_ip></source_ip><count>0</count><policy_evaluated/></row></record></feedback>";

        var report = AggregateReportReader.Parse(DmarcSamples.Utf8(xml));

        var row = Assert.Single(report.Records);
        Assert.Equal(("", 0, 0L), (row.SourceIp, row.SourceIpVersion, row.Count));
        Assert.Empty(AggregateReportReader.Parse(DmarcSamples.Utf8(DmarcSamples.Header() + "</feedback>")).Records);
    }

    /// <summary>A report of n rows produced on the fly, so the test itself holds no copy of the document.</summary>
    internal sealed class GeneratedReportStream(int rows) : ReadOnlyStream
    {
        private int _next = -1;
        private byte[] _chunk = DmarcSamples.Utf8(DmarcSamples.Header());
        private int _offset;
        public long BytesProduced { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_offset == _chunk.Length)
            {
                _next++;
                if (_next < rows) _chunk = DmarcSamples.Utf8(DmarcSamples.Record(_next));
                else if (_next == rows) _chunk = "</feedback>\n"u8.ToArray();
                else return 0;
                _offset = 0;
            }
            var n = Math.Min(count, _chunk.Length - _offset);
            Array.Copy(_chunk, _offset, buffer, offset, n);
            _offset += n;
            BytesProduced += n;
            return n;
        }
    }
}

/// <summary>Measures the live heap, so it runs alone (other tests' allocations would blur the figure).</summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public class MemoryMeasurement;

[Collection(nameof(MemoryMeasurement))]
public class AggregateReportMemoryTests
{
    [Fact]
    public void StreamsAHundredThousandRecordsInBoundedMemory()
    {
        const int rows = 100_000;
        var stream = AggregateReportReaderTests.Generated(rows);
        long count = 0, sum = 0;
        long peakLive = 0;
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        using (var reader = AggregateReportReader.Open(stream))
        {
            foreach (var record in reader.ReadRecords())
            {
                count++;
                sum += record.Count;
                if (count % 20_000 == 0) peakLive = Math.Max(peakLive, GC.GetTotalMemory(forceFullCollection: true));
            }
        }

        Assert.Equal(rows, count);
        Assert.Equal((long)rows * (rows + 1) / 2, sum);
        Assert.True(stream.BytesProduced > 50_000_000, $"the document is {stream.BytesProduced} bytes");
        // Nothing is kept per row: the live heap grows by far less than the document's size.
        Assert.True(peakLive - baseline < stream.BytesProduced / 10,
            $"live heap grew by {peakLive - baseline} for a {stream.BytesProduced}-byte report");
    }

}
