using System.Diagnostics;
using System.Globalization;

namespace Mailroom.Bench;

/// <summary>
/// Several nodes (issue 20): delivery throughput of one node pinned to one core (<c>taskset -c 0</c>) and of two nodes
/// pinned to one core each (<c>-c 0</c>, <c>-c 1</c>), on one PostgreSQL, in the same run. For each configuration a fresh
/// database is filled through an API-only node (stopped before the measure), then the delivery nodes start on the same
/// database (shared key ring: the filler's master key) and prepare (DKIM-sign) and deliver everything to a loopback
/// sink; the rate is taken between 10 % and 90 % of the messages at the sink, so start-up does not count. PostgreSQL,
/// the sink and this process are not pinned: they share the two cores with the nodes.
/// </summary>
public static class NodesLoad
{
    public const string Help = """
        Delivery throughput of 1 node on 1 core vs 2 nodes on 1 core each, one PostgreSQL (needs taskset, Linux).
          --postgres CONN  PostgreSQL server (a fresh database per configuration and round) (required)
          --messages N     messages per measurement (default 6000)
          --rounds N       interleaved rounds; medians are printed (default 2)
        """;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var postgres = args.String("postgres") ?? throw new BenchException("--postgres CONN is required");
        var messages = args.Int("messages", 6000, 100);
        var rounds = args.Int("rounds", 2, 1);
        args.RejectUnknown();
        var body = SendLoad.MakeBody(5 * 1024);
        await using var sink = new SmtpSink();
        Console.WriteLine($"{messages} messages (5 KB, DKIM-signed) per measurement, {rounds} round(s), sink 127.0.0.1:{sink.Port}, {Environment.ProcessorCount} cores");
        var one = new List<double>();
        var two = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            one.Add(await MeasureAsync(postgres, sink, body, messages, [0], ct));
            Console.WriteLine(string.Create(Inv, $"round {round}: 1 node on cpu 0          {one[^1],7:0} msgs/s"));
            two.Add(await MeasureAsync(postgres, sink, body, messages, [0, 1], ct));
            Console.WriteLine(string.Create(Inv, $"round {round}: 2 nodes on cpu 0 and 1   {two[^1],7:0} msgs/s   ratio {two[^1] / one[^1]:0.00}"));
        }
        double Median(List<double> xs) { var s = xs.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
        Console.WriteLine(string.Create(Inv, $"median: 1 node {Median(one):0} msgs/s, 2 nodes {Median(two):0} msgs/s, ratio {Median(two) / Median(one):0.00} (target >= 1.6)"));
        return 0;
    }

    private static async Task<double> MeasureAsync(string postgres, SmtpSink sink, string body, int messages, int[] cpus, CancellationToken ct)
    {
        string[] common = ["--platform-domain", "bench.test", "--dns", "127.0.0.1:9", "--relay", $"127.0.0.1:{sink.Port}", "--helo", "bench.test"];
        await using var filler = await MailroomProcess.StartAsync(null, null, postgres, keep: false, ct, ["--roles", "api", .. common]);
        var token = await SendLoad.SetupAsync(filler, ct);
        using (var http = LoadRunner.CreateClient(filler.BaseAddress, 8))
            await SendLoad.SubmitAsync(http, token, body, messages, 4, ct);
        filler.Process?.Kill(entireProcessTree: true); // the database stays until the filler is disposed, after the measure
        sink.Reset();
        var nodes = new List<MailroomProcess>();
        try
        {
            var started = Stopwatch.StartNew();
            nodes.AddRange(await Task.WhenAll(cpus.Select(cpu => MailroomProcess.StartNodeAsync(filler, cpu, ["--roles", "delivery", .. common], ct))));
            double? t10 = null, t90 = null;
            var deadline = TimeSpan.FromMinutes(5);
            // Where the cores went between 10 % and 90 %: the nodes, PostgreSQL (postmaster and backends) and this
            // process (the sink; the bench itself only polls a counter).
            Dictionary<int, double> nodes0 = [], pg0 = [], self0 = [];
            while (started.Elapsed < deadline)
            {
                var n = sink.Messages;
                if (t10 is null && n >= messages * 0.1)
                {
                    t10 = started.Elapsed.TotalSeconds;
                    nodes0 = CpuAccounting.Snapshot(nodes.Select(x => x.Process!.Id));
                    pg0 = CpuAccounting.Snapshot(CpuAccounting.ByName("postgres"));
                    self0 = CpuAccounting.Snapshot([Environment.ProcessId]);
                }
                if (t90 is null && n >= messages * 0.9) { t90 = started.Elapsed.TotalSeconds; break; }
                await Task.Delay(20, ct);
            }
            if (t10 is null || t90 is null)
                throw new BenchException($"only {sink.Messages} of {messages} messages reached the sink within {deadline.TotalMinutes} min");
            var window = t90.Value - t10.Value;
            var nodeCpu = CpuAccounting.Between(nodes0, CpuAccounting.Snapshot(nodes.Select(x => x.Process!.Id)));
            var pgCpu = CpuAccounting.Between(pg0, CpuAccounting.Snapshot(CpuAccounting.ByName("postgres")));
            var selfCpu = CpuAccounting.Between(self0, CpuAccounting.Snapshot([Environment.ProcessId]));
            var perMessage = 1000.0 / (messages * 0.8);
            Console.WriteLine(string.Create(Inv,
                $"  {cpus.Length} node(s): {window:0.00} s window; cores busy: nodes {nodeCpu / window:0.00}, PostgreSQL {pgCpu / window:0.00}, sink+bench {selfCpu / window:0.00} (of {Environment.ProcessorCount}); CPU ms per message: nodes {nodeCpu * perMessage:0.00}, PostgreSQL {pgCpu * perMessage:0.00}, sink {selfCpu * perMessage:0.00}"));
            return messages * 0.8 / window;
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }
}
