using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Mailroom.Bench;

/// <summary>
/// <c>grown</c>: cost as the store grows (issue 18). Two <c>mailroom serve</c> processes side by side, one on an empty
/// store, one on a store filled with N messages over ~46 days (<see cref="StoreFiller"/>); every grown-store figure is
/// printed beside the same figure on the empty store, measured in interleaved rounds of the same run:
/// (a) accept (<c>POST /email/batch</c>, <c>POST /email</c>; roles api) and DKIM-signed delivery to a loopback sink (roles api,delivery);
/// (b) p50/p99 of the Messages API searches with each filter, message details, <c>/bounces</c>, <c>/deliverystats</c>;
/// (c) the retention purge of one day of messages (<c>mailroom purge --retention-days</c> one lower, on the warm
///     process's store) while <c>POST /email</c> runs, beside the same command with nothing to purge;
/// (d) RSS of the grown-store process under load, and of a process (roles api,delivery) with 100,000 messages waiting for a sink that
///     accepts one message a second;
/// (e) start to healthy on the grown store, beside the empty store's.
/// </summary>
public static class GrownLoad
{
    public const string Help = """
        Cost as the store grows: accept, delivery, queries, purge, memory and startup on a filled store vs an empty one.
        usage: Mailroom.Bench grown [options]
          --messages N         messages in the grown store (default 1000000), spread over --days (default 46)
          --postgres CONN      run on PostgreSQL (fresh databases on this server, dropped afterwards); default SQLite
          --rounds N           interleaved rounds; figures are medians (default 3)
          --seconds S          measured window per accept cell (default 3), --warmup S (default 1)
          --jit-warmup S       unmeasured accept load per process before round 1 (default 6)
          --queries N          requests per query cell and round, one client (default 40)
          --query-timeout S    a query slower than this ends its cell's round, recorded at S (default 30)
          --delivery N         messages per delivery round and store (default 3000)
          --slow N             messages queued for the 1 msg/s destination (default 100000; 0 = skip)
          --skip LIST          parts to leave out: accept,queries,purge,delivery,slow
          --repo DIR, --mailroom-dll PATH, --keep   as for `api`
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private const string ServerTokenHeader = "X-Postmark-Server-Token";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Row(string Figure, string Grown, string Ceiling, string Ratio, string Target, bool? Met, string Notes);

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var messages = args.Int("messages", 1_000_000, 1000);
        var days = args.Int("days", 46, 3);
        var postgres = args.String("postgres");
        var rounds = args.Int("rounds", 3, 1);
        var seconds = TimeSpan.FromSeconds(args.Double("seconds", 3, 0.1));
        var warmup = TimeSpan.FromSeconds(args.Double("warmup", 1, 0));
        var jitWarmup = TimeSpan.FromSeconds(args.Double("jit-warmup", 6, 0));
        var queries = args.Int("queries", 40, 2);
        var queryTimeout = TimeSpan.FromSeconds(args.Double("query-timeout", 30, 1));
        var deliveryCount = args.Int("delivery", 3000, 500);
        var slow = args.Int("slow", 100_000, 0);
        var skip = args.StringList("skip", []).ToHashSet(StringComparer.Ordinal);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        var storeName = postgres is null ? "SQLite" : "PostgreSQL";
        var total = Stopwatch.StartNew();
        Console.WriteLine("# Mailroom.Bench grown");
        Report.Environment(repo, storeName, $"{messages:N0} messages over {days} days; {rounds} round(s) of {seconds.TotalSeconds:0.#} s per accept cell");
        Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        var rows = new List<Row>();
        var body = SendLoad.MakeBody(5 * 1024);
        // The retention starts above the filled span (nothing to purge) and goes down one day per purge round.
        var retention = days + 1;
        string[] ApiArgs(int retentionDays) => ["--roles", "api", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9",
            "--retention-days", retentionDays.ToString(Inv)];

        await using var sink = new SmtpSink();
        await using var empty = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct, ApiArgs(retention));
        await using var grown = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct, ApiArgs(retention));
        var emptyToken = await SendLoad.SetupAsync(empty, ct);
        var grownToken = await SendLoad.SetupAsync(grown, ct);
        var (accountId, serverId) = await ServerOfAsync(grown, grownToken, ct);
        // A few messages in the empty store, so its details figure has a message to show even with --skip accept.
        using (var setupHttp = LoadRunner.CreateClient(empty.BaseAddress, 1))
            await SendLoad.SubmitAsync(setupHttp, emptyToken, body, 10, 1, ct);
        var filled = await StoreFiller.FillAsync(postgres is null ? Path.Combine(grown.DataDirectory, "mailroom.db") : null,
            grown.Database, accountId, serverId, messages, days, ct);
        Console.WriteLine($"store size: {StoreSize(grown)}");

        // (e) startup to healthy, grown beside empty (both restarted the same way, rounds interleaved).
        var startGrown = new List<double>();
        var startEmpty = new List<double>();
        for (var r = 1; r <= rounds; r++)
        {
            startEmpty.Add((await empty.RestartAsync(ApiArgs(retention), ct)).TotalSeconds);
            startGrown.Add((await grown.RestartAsync(ApiArgs(retention), ct)).TotalSeconds);
            Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  start to healthy: empty {startEmpty[^1]:0.00} s, grown {startGrown[^1]:0.00} s"));
        }
        var sg = Report.Median(startGrown);
        var se = Report.Median(startEmpty);
        rows.Add(new Row($"start to healthy ({messages:N0}-message store)", S(sg), S(se) + " (empty store)", R(sg / se), "< 5 s", sg < 5,
            $"by round {string.Join(" / ", startGrown.Select(x => x.ToString("0.00", Inv)))} s"));

        using var rss = new RssSampler(grown);
        using var emptyHttp = LoadRunner.CreateClient(empty.BaseAddress, 72);
        using var grownHttp = LoadRunner.CreateClient(grown.BaseAddress, 72);

        // (a) accept, grown vs empty, interleaved.
        if (!skip.Contains("accept"))
        {
            var batchJson = JsonSerializer.SerializeToUtf8Bytes(Enumerable.Range(0, 500).Select(i => Message(body, i)).ToArray());
            var singleJson = JsonSerializer.SerializeToUtf8Bytes(Message(body, 1));
            Func<int, long, CancellationToken, Task<Outcome>> Post(HttpClient c, string token, string path, byte[] json) => async (w, n, cc) =>
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, path);
                req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
                req.Content = new ByteArrayContent(json);
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var res = await c.SendAsync(req, HttpCompletionOption.ResponseContentRead, cc).ConfigureAwait(false);
                return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
            };
            foreach (var (m, http, token) in new[] { (empty, emptyHttp, emptyToken), (grown, grownHttp, grownToken) })
            {
                await LoadRunner.RunAsync(4, jitWarmup, TimeSpan.FromSeconds(0.1), Post(http, token, "email/batch", batchJson), m.Process, ct);
                await LoadRunner.RunAsync(64, jitWarmup / 2, TimeSpan.FromSeconds(0.1), Post(http, token, "email", singleJson), m.Process, ct);
            }
            Console.WriteLine($"jit warm-up done ({jitWarmup.TotalSeconds:0.#} s batch + {jitWarmup.TotalSeconds / 2:0.#} s single per process)");
            var bE = new List<double>(); var bG = new List<double>();
            var sE = new List<CellResult>(); var sG = new List<CellResult>();
            for (var r = 1; r <= rounds; r++)
            {
                foreach (var (m, http, token, list) in new[] { (empty, emptyHttp, emptyToken, bE), (grown, grownHttp, grownToken, bG) })
                {
                    var res = await SendLoad.BatchCellAsync(4, warmup, seconds, Post(http, token, "email/batch", batchJson), m.Process, ct);
                    list.Add(res.Rate);
                    Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  {(m == grown ? "grown" : "empty")} POST /email/batch c=4: {res.Rate,7:0} msgs/s, batch p50 {res.P50Ms:0} ms, errors {res.Errors}, mailroom cpu/msg {res.CpuMsPerMsg:0.000} ms"));
                }
                foreach (var (m, http, token, list) in new[] { (empty, emptyHttp, emptyToken, sE), (grown, grownHttp, grownToken, sG) })
                {
                    var res = await LoadRunner.RunAsync(64, warmup, seconds, Post(http, token, "email", singleJson), m.Process, ct);
                    list.Add(res);
                    Console.WriteLine($"round {r}/{rounds}  {(m == grown ? "grown" : "empty")} {Report.Cell("POST /email", res)}");
                }
            }
            var bg = Report.Median(bG); var be = Report.Median(bE);
            rows.Add(new Row("POST /email/batch (500 × 5 KB), 4 clients, msgs/s", N(bg), N(be) + " (empty store)", R(bg / be), "≥ 0.85", bg / be >= 0.85,
                $"grown by round {Join(bG)}; empty {Join(bE)}"));
            var sg1 = Report.Median(sG.Select(x => x.RequestsPerSecond)); var se1 = Report.Median(sE.Select(x => x.RequestsPerSecond));
            rows.Add(new Row("POST /email, 64 clients, req/s", N(sg1), N(se1) + " (empty store)", R(sg1 / se1), "≥ 0.85", sg1 / se1 >= 0.85,
                string.Create(Inv, $"p99 grown {Report.Median(sG.Select(x => x.Latencies.PercentileMs(99))):0.0} ms, empty {Report.Median(sE.Select(x => x.Latencies.PercentileMs(99))):0.0} ms; grown by round {Join(sG.Select(x => x.RequestsPerSecond))}; errors {sG.Sum(x => x.Errors) + sE.Sum(x => x.Errors)}")));
        }
        var rssAccept = rss.TakeMax();

        // (b) queries, grown vs empty, one client, interleaved.
        if (!skip.Contains("queries"))
        {
            var day = DateTimeOffset.FromUnixTimeMilliseconds(filled.NewestMs).AddDays(-10).ToString("yyyy-MM-dd", Inv);
            var random = new Random(7);
            var cells = new (string Label, Func<int, string> Path)[]
            {
                ("GET /messages/outbound (no filter)", _ => "messages/outbound?count=50&offset=0"),
                ("… recipient=", i => $"messages/outbound?count=50&offset=0&recipient=user{(i * 7919) % StoreFiller.Recipients}@example.net"),
                ("… fromemail=", i => $"messages/outbound?count=50&offset=0&fromemail=shop{i % StoreFiller.Senders}@bench.test"),
                ("… tag=", i => $"messages/outbound?count=50&offset=0&tag=t{i % StoreFiller.Tags}"),
                ("… status=sent", _ => "messages/outbound?count=50&offset=0&status=sent"),
                ("… subject=", i => $"messages/outbound?count=50&offset=0&subject=Order%20{(i * 104729) % messages}%20confirmed"),
                ("… fromdate=&todate= (one day)", _ => $"messages/outbound?count=50&offset=0&fromdate={day}&todate={day}"),
                ("… messagestream=broadcast", _ => "messages/outbound?count=50&offset=0&messagestream=broadcast"),
                ("GET /messages/outbound/{id}/details", i => $"messages/outbound/{filled.SampleIds[i % filled.SampleIds.Count]}/details"),
                ("GET /bounces", _ => "bounces?count=50&offset=0"),
                ("GET /deliverystats", _ => "deliverystats"),
            };
            var timeouts = new HashSet<string>();
            var results = cells.ToDictionary(c => c.Label, _ => (Grown: new List<(double P50, double P99)>(), Empty: new List<(double P50, double P99)>()));
            for (var r = 1; r <= rounds; r++)
                foreach (var (label, path) in cells)
                {
                    // Details on the empty store: a message of its own (the grown store's ids are not there).
                    foreach (var (isGrown, http, token) in new[] { (false, emptyHttp, emptyToken), (true, grownHttp, grownToken) })
                    {
                        var lat = new LatencyHistogram(queries);
                        for (var i = -3; i < queries; i++)
                        {
                            var p = !isGrown && label.Contains("details", StringComparison.Ordinal) ? await AnyMessagePathAsync(http, token, ct) : path(i + r * queries);
                            var t0 = Stopwatch.GetTimestamp();
                            // A search that scans a million rows on a loaded machine can take minutes: one that passes
                            // --query-timeout is recorded at that time and ends the cell's round (its p99 is then "≥").
                            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                            timeout.CancelAfter(queryTimeout);
                            try
                            {
                                await GetOkAsync(http, token, p, timeout.Token);
                            }
                            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                            {
                                lat.Record(Stopwatch.GetTimestamp() - t0);
                                timeouts.Add(label);
                                Console.WriteLine($"  {label}: a request passed {queryTimeout.TotalSeconds:0} s ({(isGrown ? "grown" : "empty")}); cell ends for this round");
                                break;
                            }
                            if (i >= 0)
                                lat.Record(Stopwatch.GetTimestamp() - t0);
                        }
                        var l = LatencyHistogram.Merge([lat]);
                        (isGrown ? results[label].Grown : results[label].Empty).Add((l.PercentileMs(50), l.PercentileMs(99)));
                    }
                    var g = results[label].Grown[^1];
                    Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  {label,-40} grown p50 {g.P50,7:0.0} p99 {g.P99,7:0.0} ms   empty p99 {results[label].Empty[^1].P99,6:0.0} ms"));
                }
            foreach (var (label, _) in cells)
            {
                var (g, e) = results[label];
                var p99 = Report.Median(g.Select(x => x.P99));
                var ep99 = Report.Median(e.Select(x => x.P99));
                rows.Add(new Row($"{label} p99 ms", (timeouts.Contains(label) ? "≥ " : "") + S(p99), S(ep99) + " (empty store)", R(p99 / ep99), "< 50 ms", p99 < 50,
                    string.Create(Inv, $"p50 {Report.Median(g.Select(x => x.P50)):0.0} ms; p99 by round {Join(g.Select(x => x.P99), "0.0")}")));
            }
        }

        // (c) the retention purge of one day on the warm grown process while POST /email runs: `mailroom purge`, one
        // pass of the retention job in a second process on the same store, beside the same command with nothing to purge.
        if (!skip.Contains("purge"))
        {
            var singleJson = JsonSerializer.SerializeToUtf8Bytes(Message(body, 2));
            var without = new List<double>();
            var during = new List<double>();
            var purgeTimes = new List<string>();
            // One unmeasured round: POST /email's code is jitted and the command's files are in the page cache.
            await SingleDuringPurgeAsync(grown, grownHttp, grownToken, singleJson, days + 1, ct);
            for (var r = 1; r <= rounds; r++)
            {
                var (p99, n, _, secs) = await SingleDuringPurgeAsync(grown, grownHttp, grownToken, singleJson, days + 1, ct);
                without.Add(p99);
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  mailroom purge --retention-days {days + 1} (nothing to purge, {secs:0.0} s): POST /email p99 {p99:0.0} ms over {n} requests"));
                // The filled span is `days` days: the first purge round cuts at days - 1 (one day), each next one day more.
                retention = r == 1 ? days - 1 : retention - 1;
                var (dp99, dn, purged, purgeSecs) = await SingleDuringPurgeAsync(grown, grownHttp, grownToken, singleJson, retention, ct);
                during.Add(dp99);
                purgeTimes.Add(string.Create(Inv, $"{purged} in {purgeSecs:0.0} s"));
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  mailroom purge --retention-days {retention} (purges a day): POST /email p99 {dp99:0.0} ms over {dn} requests during the command ({purged} messages purged, command {purgeSecs:0.0} s)"));
            }
            var d = Report.Median(during); var w = Report.Median(without);
            rows.Add(new Row("POST /email (64 clients) p99 during the purge of a day, ms", S(d), S(w) + " (same command, nothing to purge)", R(d / w), "≤ 2×", d / w <= 2,
                $"warm process; purged by round (whole command, start included): {string.Join("; ", purgeTimes)}"));
        }

        // (a) delivery, grown vs empty: both restarted with all roles, relaying to the sink.
        if (!skip.Contains("delivery"))
        {
            string[] AllArgs() => ["--roles", "api,delivery", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9", "--relay", $"127.0.0.1:{sink.Port}",
                "--helo", "bench.test", "--retention-days", retention.ToString(Inv)];
            // The accept rounds left messages unprepared (the api role does not deliver): mark them done so they are
            // not delivered here and counted at the sink.
            foreach (var m in new[] { empty, grown })
                await MarkAcceptedDoneAsync(m, ct);
            await empty.RestartAsync(AllArgs(), ct);
            await grown.RestartAsync(AllArgs(), ct);
            rss.Reset();
            var dE = new List<double>(); var dG = new List<double>();
            // One unmeasured round on each for the JIT.
            foreach (var (m, http, token) in new[] { (empty, emptyHttp, emptyToken), (grown, grownHttp, grownToken) })
                await DeliverAsync(sink, http, token, body, Math.Min(2000, deliveryCount), ct);
            for (var r = 1; r <= rounds; r++)
                foreach (var (m, http, token, list) in new[] { (empty, emptyHttp, emptyToken, dE), (grown, grownHttp, grownToken, dG) })
                {
                    var rate = await DeliverAsync(sink, http, token, body, deliveryCount, ct);
                    list.Add(rate);
                    Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  {(m == grown ? "grown" : "empty")} delivery of {deliveryCount}: {rate:0} msgs/s submit → all at the sink"));
                }
            var g = Report.Median(dG); var e = Report.Median(dE);
            rows.Add(new Row($"DKIM-signed delivery, {deliveryCount} msgs submit → sink, msgs/s", N(g), N(e) + " (empty store)", R(g / e), "≥ 0.85", g / e >= 0.85,
                $"grown by round {Join(dG)}; empty {Join(dE)}"));
        }
        var rssLoad = Math.Max(rssAccept, rss.TakeMax());
        rows.Add(new Row("RSS of mailroom serve (grown store) under load, MB", S(rssLoad / 1048576.0, "0"), "", "", "< 400 MB", rssLoad < 400L * 1048576,
            "peak of 5 samples/s over the accept, query, purge and delivery phases"));

        // (d) memory with many messages waiting for a slow destination.
        if (slow > 0 && !skip.Contains("slow"))
            rows.Add(await SlowDestinationAsync(repo, dll, postgres, keep, body, slow, ct));

        Console.WriteLine();
        Console.WriteLine($"load after: {File.ReadAllText("/proc/loadavg").Trim()}; total run {total.Elapsed.TotalSeconds:0} s");
        Console.WriteLine();
        Console.WriteLine($"## Summary ({storeName}, {messages:N0}-message store vs empty store, medians of {rounds} round(s))");
        Console.WriteLine();
        Console.WriteLine("| figure | grown store | ceiling (same run) | ratio | target | met | notes |");
        Console.WriteLine("|---|---:|---:|---:|---|---|---|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Figure} | {r.Grown} | {r.Ceiling} | {r.Ratio} | {r.Target} | {(r.Met is null ? "" : r.Met.Value ? "yes" : "no")} | {r.Notes} |");
        return 0;
    }

    private static string S(double v, string f = "0.00") => v.ToString(f, Inv);
    private static string N(double v) => v.ToString("0", Inv);
    private static string R(double v) => double.IsFinite(v) ? v.ToString("0.00", Inv) : "";
    private static string Join(IEnumerable<double> v, string f = "0") => string.Join(" / ", v.Select(x => x.ToString(f, Inv)));

    private static object Message(string body, int n) => new
    {
        From = "app@bench.test",
        To = $"user{n % 100}@sink.test",
        Subject = $"grown bench {n}",
        TextBody = body,
    };

    private static string StoreSize(MailroomProcess m)
    {
        if (m.Database is not null)
            return "(PostgreSQL)";
        var bytes = new DirectoryInfo(m.DataDirectory).GetFiles("mailroom.db*").Sum(f => f.Length);
        return $"{bytes / 1048576.0:0} MB (SQLite file + WAL)";
    }

    private static async Task<(int Account, int Server)> ServerOfAsync(MailroomProcess m, string token, CancellationToken ct)
    {
        using var http = LoadRunner.CreateClient(m.BaseAddress, 1);
        using var req = new HttpRequestMessage(HttpMethod.Get, "server");
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        using var res = await http.SendAsync(req, ct);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct));
        // The bench's account is the store's first (accounts create on a fresh store).
        return (1, doc.RootElement.GetProperty("ID").GetInt32());
    }

    private static async Task GetOkAsync(HttpClient http, string token, string path, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, path);
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        using var res = await http.SendAsync(req, HttpCompletionOption.ResponseContentRead, ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"GET {path} answered {(int)res.StatusCode}: {await res.Content.ReadAsStringAsync(ct)}");
        await res.Content.LoadIntoBufferAsync(ct);
    }

    private static string? _emptyDetails;

    private static async Task<string> AnyMessagePathAsync(HttpClient http, string token, CancellationToken ct)
    {
        if (_emptyDetails is not null)
            return _emptyDetails;
        using var req = new HttpRequestMessage(HttpMethod.Get, "messages/outbound?count=1&offset=0");
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        using var res = await http.SendAsync(req, ct);
        using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct));
        return _emptyDetails = $"messages/outbound/{doc.RootElement.GetProperty("Messages")[0].GetProperty("MessageID").GetString()}/details";
    }

    /// <summary>Runs 64 POST /email clients against the warm <paramref name="m"/>; after one second, runs
    /// <c>mailroom purge --retention-days</c> <paramref name="retentionDays"/> on its store (a second process, as an
    /// operator would) and stops the clients when it exits. Returns the p99 of the requests started while the command
    /// ran, their number, the messages it purged and its duration.</summary>
    private static async Task<(double P99, int Requests, long Purged, double Seconds)> SingleDuringPurgeAsync(MailroomProcess m, HttpClient http,
        string token, byte[] json, int retentionDays, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var stop = 0;
        var lists = new List<(double Start, double Ms)>[64];
        var workers = Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
        {
            var list = lists[w] = [];
            while (Volatile.Read(ref stop) == 0 && !ct.IsCancellationRequested)
            {
                var t0 = started.Elapsed.TotalSeconds;
                using var req = new HttpRequestMessage(HttpMethod.Post, "email");
                req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
                req.Content = new ByteArrayContent(json);
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                try
                {
                    using var res = await http.SendAsync(req, HttpCompletionOption.ResponseContentRead, ct);
                    await res.Content.LoadIntoBufferAsync(ct);
                }
                catch (HttpRequestException) { }
                list.Add((t0, (started.Elapsed.TotalSeconds - t0) * 1000));
            }
        }, ct)).ToArray();
        await Task.Delay(1000, ct);
        var windowStart = started.Elapsed.TotalSeconds;
        var result = await m.CommandAsync(["purge", "--retention-days", retentionDays.ToString(Inv)], ct);
        var windowEnd = started.Elapsed.TotalSeconds;
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(workers);
        if (result.ExitCode != 0)
            throw new BenchException($"mailroom purge failed: {result}");
        var lat = lists.SelectMany(l => l).Where(x => x.Start >= windowStart && x.Start < windowEnd).Select(x => x.Ms).Order().ToArray();
        var p99 = lat.Length == 0 ? double.NaN : lat[Math.Min(lat.Length - 1, (int)Math.Ceiling(lat.Length * 0.99) - 1)];
        var purged = result.StandardOutput.Split(' ') is [_, var n, ..] && long.TryParse(n, NumberStyles.Integer, Inv, out var count) ? count : -1;
        return (p99, lat.Length, purged, windowEnd - windowStart);
    }

    private static async Task MarkAcceptedDoneAsync(MailroomProcess m, CancellationToken ct)
    {
        const string sql = "UPDATE outbound_messages SET \"Stage\" = 1, \"Status\" = 1 WHERE \"Stage\" = 0";
        if (m.Database is null)
        {
            await using var c = new SqliteConnection($"Data Source={Path.Combine(m.DataDirectory, "mailroom.db")};Pooling=false;Default Timeout=60");
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            await cmd.ExecuteNonQueryAsync(ct);
        }
        else
        {
            await using var c = new NpgsqlConnection(m.Database);
            await c.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task<double> DeliverAsync(SmtpSink sink, HttpClient http, string token, string body, int count, CancellationToken ct)
    {
        sink.Reset();
        var sw = Stopwatch.StartNew();
        var ids = await SendLoad.SubmitAsync(http, token, body, count, 4, ct);
        while (sink.Messages < ids.Count)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(300))
                throw new BenchException($"delivery: only {sink.Messages} of {ids.Count} at the sink after 300 s");
            await Task.Delay(20, ct);
        }
        var rate = ids.Count / sw.Elapsed.TotalSeconds;
        await Task.Delay(300, ct); // let the last outcomes commit before the next round
        return rate;
    }

    /// <summary>A fresh store, all roles, relaying to a sink that accepts one message a second; N messages submitted in
    /// batches; RSS sampled while they are submitted and for 20 s after, with the queue almost whole. Bounded: the peak
    /// with N waiting is compared with the RSS after the first 10,000 (the ceiling), so growth with the queue shows.</summary>
    private static async Task<Row> SlowDestinationAsync(string? repo, string? dll, string? postgres, bool keep, string body, int count, CancellationToken ct)
    {
        await using var slowSink = new SmtpSink(TimeSpan.FromSeconds(1));
        await using var m = await MailroomProcess.StartAsync(repo, dll, postgres, keep, ct,
            ["--roles", "api,delivery", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9", "--relay", $"127.0.0.1:{slowSink.Port}", "--helo", "bench.test"]);
        var token = await SendLoad.SetupAsync(m, ct);
        using var http = LoadRunner.CreateClient(m.BaseAddress, 8);
        using var rss = new RssSampler(m);
        var first = Math.Min(10_000, count);
        await SendLoad.SubmitAsync(http, token, body, first, 4, ct);
        await Task.Delay(2000, ct);
        var at10k = rss.TakeMax();
        var sw = Stopwatch.StartNew();
        for (var done = first; done < count; done += 10_000)
        {
            await SendLoad.SubmitAsync(http, token, body, Math.Min(10_000, count - done), 4, ct);
            Console.WriteLine(string.Create(Inv, $"slow destination: {Math.Min(count, done + 10_000):N0} submitted ({sw.Elapsed.TotalSeconds:0} s), sink has {slowSink.Messages}, RSS {m.RssBytes() / 1048576.0:0} MB"));
        }
        await Task.Delay(20_000, ct);
        var peak = Math.Max(rss.TakeMax(), at10k);
        var now = m.RssBytes();
        Console.WriteLine(string.Create(Inv, $"slow destination: {count:N0} waiting (sink has {slowSink.Messages}); RSS after 10,000: {at10k / 1048576.0:0} MB, peak {peak / 1048576.0:0} MB, now {now / 1048576.0:0} MB"));
        return new Row($"RSS with {count:N0} messages waiting for a 1 msg/s destination, MB", S(peak / 1048576.0, "0"),
            S(at10k / 1048576.0, "0") + " (after the first 10,000)", R((double)peak / at10k), "< 400 MB, bounded", peak < 400L * 1048576,
            string.Create(Inv, $"RSS 20 s after the last submit {now / 1048576.0:0} MB; sink had accepted {slowSink.Messages}"));
    }

    /// <summary>Samples a process's RSS five times a second; <see cref="TakeMax"/> returns the peak since the last call.</summary>
    private sealed class RssSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private long _max;

        public RssSampler(MailroomProcess m)
        {
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    var v = m.RssBytes();
                    long cur;
                    while (v > (cur = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, v, cur) != cur) { }
                    try { await Task.Delay(200, _stop.Token); } catch (OperationCanceledException) { return; }
                }
            });
        }

        public long TakeMax() => Interlocked.Exchange(ref _max, 0);
        public void Reset() => Interlocked.Exchange(ref _max, 0);
        public void Dispose() => _stop.Cancel();
    }
}
