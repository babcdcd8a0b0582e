using System.IO.Compression;
using System.Text;
using Mailroom.Mail.DmarcReports;
using MimeKit;

namespace Mailroom.Mail.Tests.DmarcReports;

public class ReportPayloadsTests
{
    static readonly byte[] Xml = DmarcSamples.Utf8(DmarcSamples.Report(records: 2));

    static List<(string? Name, string Packaging, AggregateReport Report)> ExtractAll(byte[] input, DmarcReportLimits? limits = null)
    {
        var found = new List<(string?, string, AggregateReport)>();
        ReportPayloads.Extract(new MemoryStream(input), d => found.Add((d.Name, d.Packaging, AggregateReportReader.Parse(d.Content, limits))), limits);
        return found;
    }

    static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(data);
        return output.ToArray();
    }

    static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create))
            foreach (var (name, data) in entries)
                using (var s = zip.CreateEntry(name).Open()) s.Write(data);
        return output.ToArray();
    }

    [Fact]
    public void SniffsXmlGzipAndZipFromContentNotNames()
    {
        Assert.Equal("xml", Assert.Single(ExtractAll(Xml)).Packaging);
        Assert.Equal("gzip+xml", Assert.Single(ExtractAll(Gzip(Xml))).Packaging);
        Assert.Equal("zip+xml", Assert.Single(ExtractAll(Zip(("report.gz", Xml)))).Packaging); // zip entry named .gz but holding XML
        Assert.Equal("gzip+gzip+xml", Assert.Single(ExtractAll(Gzip(Gzip(Xml)))).Packaging);
        Assert.Equal("zip+gzip+xml", Assert.Single(ExtractAll(Zip(("a.xml.gz", Gzip(Xml))))).Packaging);
    }

    [Fact]
    public void SkipsMacJunkDirectoriesAndNonReportEntries()
    {
        var found = ExtractAll(Zip(("__MACOSX/._r.xml", DmarcSamples.Utf8("<junk/>")), ("dir/", []), ("r.xml", Xml), ("readme.txt", "hello"u8.ToArray())));
        var (name, _, report) = Assert.Single(found);
        Assert.Equal("r.xml", name);
        Assert.Equal(2, report.Records.Count);
    }

    [Fact]
    public void RefusesAGzipHoldingSomethingElse()
    {
        // Yahoo once sent a gzip whose content was the word "unused" (parsedmarc #409).
        var e = Assert.Throws<DmarcReportException>(() => ExtractAll(Gzip("unused"u8.ToArray())));
        Assert.Contains("neither XML", e.Message);
    }

    [Fact]
    public void RefusesTooManyZipEntries()
    {
        var entries = Enumerable.Range(0, 20).Select(i => ($"{i}.xml", Xml)).ToArray();
        Assert.Contains("entries", Assert.Throws<DmarcReportException>(() => ExtractAll(Zip(entries))).Message);
    }

    [Fact]
    public void RefusesArchivesNestedTooDeep()
    {
        var nested = Gzip(Gzip(Gzip(Gzip(Xml))));
        Assert.Contains("nested", Assert.Throws<DmarcReportException>(() => ExtractAll(nested)).Message);
    }

    [Fact]
    public void RefusesTruncatedGzip()
    {
        var gz = Gzip(Xml);
        Assert.Throws<DmarcReportException>(() => ExtractAll(gz[..(gz.Length / 2)]));
    }

    /// <summary>A report start, then 1 GiB of spaces as 1,024 concatenated gzip members of 1 MiB each (RFC 1952
    /// §2.2): cheap to generate, valid XML as far as it goes; the cap must stop it after MaxXmlBytes.</summary>
    static byte[] GigabyteGzipBomb(out long declared)
    {
        var spaces = new byte[1 << 20];
        Array.Fill(spaces, (byte)' ');
        var member = Gzip(spaces);
        var head = Gzip(DmarcSamples.Utf8(DmarcSamples.Header()));
        var bomb = new byte[head.Length + member.Length * 1024];
        head.CopyTo(bomb, 0);
        for (var i = 0; i < 1024; i++) member.CopyTo(bomb, head.Length + i * member.Length);
        declared = 1L << 30;
        return bomb;
    }

    [Fact]
    public void GzipBombCostsNoMoreThanTheCap()
    {
        var bomb = GigabyteGzipBomb(out var declared);
        var limits = new DmarcReportLimits { MaxXmlBytes = 4 << 20 };
        var counting = new CountingStream(new MemoryStream(bomb));

        var e = Assert.Throws<DmarcReportException>(() =>
            ReportPayloads.Extract(counting, d => AggregateReportReader.Parse(d.Content, limits), limits));

        Assert.Contains("larger than the limit", e.Message);
        // Only as much compressed input as yields the cap (plus read-ahead) was consumed, not the whole gigabyte.
        Assert.True(counting.BytesRead < bomb.Length / 16, $"{counting.BytesRead} of {bomb.Length} compressed bytes read, bomb of {declared}");
    }

    [Fact]
    public void ZipBombWithALyingSizeCostsNoMoreThanTheCap()
    {
        // An entry that inflates to 16 MiB while the cap is 1 MiB, and a copy whose headers claim 100 bytes.
        var content = new byte[16 << 20];
        Array.Fill(content, (byte)' ');
        DmarcSamples.Utf8(DmarcSamples.Header()).CopyTo(content, 0);
        var zip = Zip(("bomb.xml", content));
        var limits = new DmarcReportLimits { MaxXmlBytes = 1 << 20 };

        var e = Assert.Throws<DmarcReportException>(() =>
            ReportPayloads.Extract(new MemoryStream(zip), d => AggregateReportReader.Parse(d.Content, limits), limits));
        Assert.Contains("larger than the limit", e.Message);

        var lying = (byte[])zip.Clone();
        PatchZipSizes(lying, 100);
        Assert.Throws<DmarcReportException>(() =>
            ReportPayloads.Extract(new MemoryStream(lying), d => AggregateReportReader.Parse(d.Content, limits), limits));
    }

    [Fact]
    public void ZipBombOfXmlIsCutAtTheCap()
    {
        var big = DmarcSamples.Utf8(DmarcSamples.Report(records: 20_000)); // about 11 MB of XML
        var limits = new DmarcReportLimits { MaxXmlBytes = 1 << 20 };
        var e = Assert.Throws<DmarcReportException>(() =>
            ReportPayloads.Extract(new MemoryStream(Zip(("r.xml", big))), d => AggregateReportReader.Parse(d.Content, limits), limits));
        Assert.Contains("larger than the limit", e.Message);
    }

    /// <summary>Overwrites the uncompressed size in the local header and the central directory.</summary>
    static void PatchZipSizes(byte[] zip, uint size)
    {
        for (var i = 0; i + 4 <= zip.Length; i++)
        {
            if (zip[i] == 0x50 && zip[i + 1] == 0x4B && zip[i + 2] == 3 && zip[i + 3] == 4) BitConverter.TryWriteBytes(zip.AsSpan(i + 22, 4), size);
            if (zip[i] == 0x50 && zip[i + 1] == 0x4B && zip[i + 2] == 1 && zip[i + 3] == 2) BitConverter.TryWriteBytes(zip.AsSpan(i + 24, 4), size);
        }
    }

    [Theory]
    [InlineData("application/octet-stream", "report.bin")]
    [InlineData("application/x-gzip", "report.zip")]
    [InlineData("text/plain", null)]
    public void FindsReportsInMailWhateverTheMimeTypeSays(string mimeType, string? fileName)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("noreply@reporter.example"));
        message.Subject = "=?UTF-8?B?UmVwb3J0IGRvbWFpbjogZXhhbXBsZS5jb20=?=";
        var body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "This is an aggregate report." },
            new Multipart("related") { new Multipart("alternative") {
                new MimePart(mimeType) { FileName = fileName, Content = new MimeContent(new MemoryStream(Gzip(Xml))),
                    ContentTransferEncoding = ContentEncoding.Base64 } } },
            new MimePart("application", "zip") { Content = new MimeContent(new MemoryStream(Zip(("x.xml", Xml)))),
                ContentTransferEncoding = ContentEncoding.Base64 },
        };
        message.Body = body;
        var bytes = new MemoryStream();
        message.WriteTo(bytes);

        var found = ExtractAll(bytes.ToArray());

        Assert.Equal(["gzip+xml", "zip+xml"], found.Select(f => f.Packaging));
    }

    [Fact]
    public void FindsAReportThatIsTheWholeMessageBody()
    {
        var message = new MimeMessage { Body = new MimePart("application", "gzip") {
            Content = new MimeContent(new MemoryStream(Gzip(Xml))), ContentTransferEncoding = ContentEncoding.Base64 } };
        var count = ReportPayloads.Extract(message, d => Assert.Equal(2, AggregateReportReader.Parse(d.Content).Records.Count));
        Assert.Equal(1, count);
    }

    [Fact]
    public void RefusesMailWithoutAReport()
    {
        var message = new MimeMessage { Body = new TextPart("plain") { Text = "hello" } };
        Assert.Throws<DmarcReportException>(() => ReportPayloads.Extract(message, _ => { }));
    }

    [Fact]
    public void ReadsAnMboxStyleFileWithFromLine()
    {
        var message = new MimeMessage { Body = new MimePart("application", "gzip") {
            Content = new MimeContent(new MemoryStream(Gzip(Xml))), ContentTransferEncoding = ContentEncoding.Base64 } };
        var bytes = new MemoryStream();
        message.WriteTo(bytes);
        var withFrom = Encoding.ASCII.GetBytes("From reporter@example.net Sat Dec  5 01:00:00 2026\r\n").Concat(bytes.ToArray()).ToArray();
        Assert.Single(ExtractAll(withFrom));
    }

    sealed class CountingStream(Stream inner) : ReadOnlyStream
    {
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count) { var n = inner.Read(buffer, offset, count); BytesRead += n; return n; }
        public override int Read(Span<byte> buffer) { var n = inner.Read(buffer); BytesRead += n; return n; }
    }
}
