using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Xml;
using Mailroom.Mail.DmarcReports;

namespace Mailroom.Bench;

/// <summary>
/// DMARC aggregate report parsing: reports/s and records/s of <see cref="ReportPayloads"/> + <see cref="AggregateReportReader"/>
/// over the corpus (tests/corpus/dmarc/aggregate, packaging included), beside a plain XmlReader pass that reads every
/// node of the same decompressed documents and builds nothing (the floor); then a generated 100,000-record report
/// streamed from a file, with its time and the managed heap's peak while reading (sampled every 5,000 rows).
/// </summary>
public static class DmarcLoad
{
    public const string Help = """
        DMARC report parsing: Mailroom's parser vs a plain XmlReader pass (reports/s, records/s); 100,000-record report peak memory.
          --seconds N   length of each corpus measurement (default 3)
          --rounds N    interleaved rounds; medians are printed (default 3)
          --rows N      rows of the generated large report (default 100000)
          --repo DIR    the checkout (default: found from the current folder)
        """;

    public static Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var window = TimeSpan.FromSeconds(args.Double("seconds", 3, 0.2));
        var rounds = args.Int("rounds", 3, 1);
        var rows = args.Int("rows", 100_000, 1);
        var repo = args.String("repo") ?? FindRepo();
        args.RejectUnknown();

        var folder = Path.Combine(repo, "tests", "corpus", "dmarc", "aggregate");
        var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        // Only the files the parser accepts, so both sides read the same documents.
        var inputs = new List<(byte[] Raw, List<byte[]> Xml, int Records)>();
        foreach (var raw in files)
        {
            try
            {
                var docs = new List<byte[]>();
                var records = 0;
                ReportPayloads.Extract(new MemoryStream(raw), d =>
                {
                    var buffer = new MemoryStream();
                    d.Content.CopyTo(buffer);
                    docs.Add(buffer.ToArray());
                    records += AggregateReportReader.Parse(buffer.ToArray()).Records.Count;
                });
                inputs.Add((raw, docs, records));
            }
            catch (DmarcReportException)
            {
            }
        }
        var totalRecords = inputs.Sum(i => i.Records);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"corpus: {inputs.Count} of {files.Count} files accepted, {totalRecords} records, {inputs.Sum(i => i.Raw.Length)} bytes; {window.TotalSeconds:0.#} s x {rounds} rounds"));

        var ours = new List<double>();
        var plain = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            ct.ThrowIfCancellationRequested();
            ours.Add(Measure(window, () =>
            {
                foreach (var (raw, _, _) in inputs)
                    ReportPayloads.Extract(new MemoryStream(raw), d =>
                    {
                        using var reader = AggregateReportReader.Open(d.Content);
                        foreach (var _ in reader.ReadRecords()) { }
                    });
            }));
            plain.Add(Measure(window, () =>
            {
                foreach (var (_, docs, _) in inputs)
                    foreach (var xml in docs)
                        PlainPass(new MemoryStream(xml));
            }));
        }
        var passes = (Median(ours), Median(plain));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  mailroom (unpack + parse): {passes.Item1 * inputs.Count,10:0} reports/s {passes.Item1 * totalRecords,12:0} records/s"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  plain XmlReader (xml only): {passes.Item2 * inputs.Count,9:0} reports/s {passes.Item2 * totalRecords,12:0} records/s"));

        // The large report, written to a file and streamed from it.
        var path = Path.Combine(Path.GetTempPath(), $"mailroom-dmarc-bench-{Environment.ProcessId}.xml");
        try
        {
            using (var file = new StreamWriter(path, false, new UTF8Encoding(false)))
            {
                file.Write(LargeHeader);
                for (var i = 0; i < rows; i++) file.Write(LargeRecord(i));
                file.Write("</feedback>\n");
            }
            var size = new FileInfo(path).Length;
            GC.Collect();
            var baseline = GC.GetTotalMemory(true);
            long peak = 0, count = 0;
            var watch = Stopwatch.StartNew();
            using (var stream = File.OpenRead(path))
            using (var reader = AggregateReportReader.Open(stream))
                foreach (var _ in reader.ReadRecords())
                    if (++count % 5000 == 0) peak = Math.Max(peak, GC.GetTotalMemory(false));
            var ourTime = watch.Elapsed;
            watch.Restart();
            using (var stream = File.OpenRead(path)) PlainPass(stream);
            var plainTime = watch.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"large: {count} records, {size / 1e6:0.0} MB: mailroom {ourTime.TotalSeconds:0.00} s ({count / ourTime.TotalSeconds:0} records/s), plain XmlReader {plainTime.TotalSeconds:0.00} s; managed heap peak {(peak - baseline) / 1e6:0.0} MB above a {baseline / 1e6:0.0} MB baseline"));
        }
        finally
        {
            File.Delete(path);
        }
        return Task.FromResult(0);
    }

    /// <summary>Reads every node; a document that is not well-formed to its end (IKEA's unclosed wrapper, trailing
    /// junk) stops at the error, which the real parser never reaches (it stops at &lt;/feedback&gt;).</summary>
    private static void PlainPass(Stream xml)
    {
        using var reader = XmlReader.Create(xml, AggregateReportReader.SafeSettings());
        try
        {
            while (reader.Read())
                if (reader.NodeType == XmlNodeType.Text) _ = reader.Value;
        }
        catch (XmlException)
        {
        }
    }

    /// <summary>Passes over the whole input per second.</summary>
    private static double Measure(TimeSpan window, Action pass)
    {
        pass();
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.Elapsed < window) { pass(); n++; }
        return n / watch.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(Directory.GetCurrentDirectory());
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new BenchException("run from the checkout or pass --repo");
    }

    private const string LargeHeader = """
        <?xml version="1.0" encoding="UTF-8"?>
        <feedback>
          <report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email><report_id>bench</report_id>
            <date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
          <policy_published><domain>example.com</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>

        """;

    private static string LargeRecord(int i) => string.Create(CultureInfo.InvariantCulture, $"""
          <record><row><source_ip>10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}</source_ip><count>{i % 7 + 1}</count>
            <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
            <identifiers><header_from>example.com</header_from></identifiers>
            <auth_results><dkim><domain>example.com</domain><selector>s1</selector><result>pass</result></dkim>
              <spf><domain>bounce.example.net</domain><result>softfail</result></spf></auth_results></record>

        """);
}
