using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mailroom.Core.Storage;
using Npgsql;

namespace Mailroom.Bench;

/// <summary>
/// <c>send</c>: Mailroom's sending figures beside the machine's ceilings measured in the same run.
/// 1. POST /email/batch (500 × ~5 KB) at 1 and 4 clients vs raw durable inserts of 500 rows per transaction;
/// 2. POST /email at 64 clients vs 64 threads committing one row each;
/// 3. end-to-end DKIM-signed delivery to a loopback SMTP sink vs RSA-2048 signatures/s (2 threads) and raw
///    MailKit SMTP to the same sink.
/// Rounds of a Mailroom figure and its ceiling are interleaved, so drifts of a shared machine hit both alike.
/// </summary>
public static class SendLoad
{
    public const string Help = """
        Sending throughput (batch accept, single /email, DKIM-signed delivery) beside the machine's ceilings.
        usage: Mailroom.Bench send [options]
          --postgres CONN      also run every accept/delivery figure on PostgreSQL (fresh databases on this
                               server, dropped afterwards); SQLite always runs
          --seconds S          measured window per cell (default 3)
          --warmup S           warm-up per Mailroom cell, not measured (default 1)
          --jit-warmup S       once per Mailroom process, unmeasured load so the JIT tiers up (default 8)
          --rounds N           rounds; tables show medians (default 3)
          --batch-clients LIST concurrent /email/batch clients (default 1,4)
          --single-clients N   concurrent POST /email clients (default 64)
          --body-kb K          TextBody size in KB (default 5)
          --messages N         messages for the end-to-end delivery figure (default 10000)
          --delivery-timeout S give up waiting for the sink after S seconds (default 120)
          --smtp-connections N connections of the raw SMTP ceiling (default 4)
          --skip LIST          parts to leave out: batch,single,delivery,ceilings
          --repo DIR, --mailroom-dll PATH, --keep   as for `api`
        Default run: ~4-5 minutes on SQLite (about twice that with --postgres).
        Build first: dotnet build -c Release Mailroom.slnx
        """;

    private const string AccountTokenHeader = "X-Postmark-Account-Token";
    private const string ServerTokenHeader = "X-Postmark-Server-Token";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Row(string Part, string Store, string Figure, double Value, string Unit, string CeilingLabel, double Ceiling, string Target, string Extra);

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var postgres = args.String("postgres");
        var seconds = TimeSpan.FromSeconds(args.Double("seconds", 3, 0.1));
        var warmup = TimeSpan.FromSeconds(args.Double("warmup", 1, 0));
        var jitWarmup = TimeSpan.FromSeconds(args.Double("jit-warmup", 8, 0));
        var rounds = args.Int("rounds", 3, 1);
        var batchClients = args.IntList("batch-clients", [1, 4]);
        var singleClients = args.Int("single-clients", 64, 1);
        var bodyKb = args.Double("body-kb", 5, 0.01);
        var messages = args.Int("messages", 10000, 1);
        var deliveryTimeout = TimeSpan.FromSeconds(args.Double("delivery-timeout", 120, 1));
        var smtpConnections = args.Int("smtp-connections", 4, 1);
        var skip = args.StringList("skip", []).ToHashSet(StringComparer.Ordinal);
        var repo = args.String("repo");
        var dll = args.String("mailroom-dll");
        var keep = args.Flag("keep");
        args.RejectUnknown();

        var body = MakeBody((int)(bodyKb * 1024));
        var total = Stopwatch.StartNew();
        Console.WriteLine("# Mailroom.Bench send");
        Report.Environment(repo, postgres is null ? "SQLite" : "SQLite + PostgreSQL",
            $"{rounds} round(s), {seconds.TotalSeconds:0.#} s per cell (+{warmup.TotalSeconds:0.#} s warm-up), JIT warm-up {jitWarmup.TotalSeconds:0.#} s, TextBody {body.Length} chars");
        Console.WriteLine($"load before: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine();

        var rows = new List<Row>();
        var stores = new List<string?> { null };
        if (postgres is not null)
            stores.Add(postgres);

        await using var sink = new SmtpSink();
        Console.WriteLine($"sink: 127.0.0.1:{sink.Port}");

        // ----- CPU / SMTP ceilings (store-independent) -----
        double rsa = double.NaN, smtp = double.NaN;
        if (!skip.Contains("ceilings"))
        {
            var rsaR = new List<double>();
            var smtpR = new List<double>();
            await Ceilings.SmtpAsync(sink, smtpConnections, 100, body, TimeSpan.FromSeconds(1), ct); // JIT + connections
            Ceilings.RsaSignatures(2, TimeSpan.FromSeconds(0.5), ct);
            for (var r = 1; r <= rounds; r++)
            {
                var cpu = CpuSnapshot.Take(null);
                rsaR.Add(Ceilings.RsaSignatures(2, seconds, ct));
                var u1 = cpu.Since(null);
                cpu = CpuSnapshot.Take(null);
                smtpR.Add(await Ceilings.SmtpAsync(sink, smtpConnections, 100, body, seconds, ct));
                var u2 = cpu.Since(null);
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  RSA-2048 sign, 2 threads: {rsaR[^1],8:0} sig/s (bench cpu {u1.BenchPercent:0}%, machine {u1.MachineBusyPercent:0}%)   " +
                    $"MailKit -> sink, {smtpConnections} conns: {smtpR[^1],8:0} msg/s (bench+sink cpu {u2.BenchPercent:0}%, machine {u2.MachineBusyPercent:0}%)"));
            }
            rsa = Report.Median(rsaR);
            smtp = Report.Median(smtpR);
            Console.WriteLine();
        }

        foreach (var store in stores)
        {
            var storeName = store is null ? "SQLite" : "PostgreSQL";
            await using var raw = await RawStore.CreateAsync(store, ct);
            if (!skip.Contains("batch") || !skip.Contains("single"))
                await AcceptAsync(rows, storeName, store, raw, body, seconds, warmup, jitWarmup, rounds, batchClients, singleClients, skip, repo, dll, keep, ct);
            if (!skip.Contains("delivery"))
                rows.Add(await DeliveryAsync(storeName, store, sink, body, messages, deliveryTimeout, rsa, smtp, repo, dll, keep, ct));
        }

        Console.WriteLine();
        Console.WriteLine($"load after: {File.ReadAllText("/proc/loadavg").Trim()}; total run {total.Elapsed.TotalSeconds:0} s");
        Console.WriteLine();
        Console.WriteLine("## Summary: Mailroom beside the machine's ceilings (medians of rounds)");
        Console.WriteLine();
        Console.WriteLine("| figure | store | Mailroom | ceiling (same run) | ceiling | Mailroom / ceiling | target | meets target | notes |");
        Console.WriteLine("|---|---|---:|---|---:|---:|---|---|---|");
        foreach (var r in rows)
        {
            var ratio = r.Ceiling > 0 ? r.Value / r.Ceiling : double.NaN;
            Console.WriteLine(string.Create(Inv,
                $"| {r.Figure} | {r.Store} | {r.Value:0} {r.Unit} | {r.CeilingLabel} | {r.Ceiling:0} | {ratio:0.00} | {r.Target} | {Meets(r)} | {r.Extra} |"));
        }
        Console.WriteLine();
        Console.WriteLine("Ratios above 1 mean Mailroom beats that ceiling (group commit shares one fsync between callers, which the " +
            "one-row-per-commit ceiling cannot).");
        return 0;
    }

    private static string Meets(Row r) => r.Target switch
    {
        "" => "",
        _ when r.Target.EndsWith(" of RSA signing", StringComparison.Ordinal) =>
            r.Ceiling > 0 && r.Value / r.Ceiling >= double.Parse(r.Target.Split(' ')[1], Inv) ? "yes" : "no",
        // Issue 18: accept targets are ratios to the raw insert of the same run; /email also needs its p99 under 25 ms.
        _ when r.Target.EndsWith(" of the ceiling", StringComparison.Ordinal) =>
            r.Ceiling > 0 && r.Value / r.Ceiling >= double.Parse(r.Target.Split(' ')[1], Inv) ? "yes" : "no",
        _ when r.Target.Contains("× the ceiling, p99 < ", StringComparison.Ordinal) =>
            r.Ceiling > 0 && r.Value / r.Ceiling >= double.Parse(r.Target.Split(' ')[1].TrimEnd('×'), Inv)
                && P99(r.Extra) < double.Parse(r.Target.Split("p99 < ")[1].Split(' ')[0], Inv) ? "yes" : "no",
        _ when r.Target.StartsWith('≥') => r.Extra.Contains("p99 ") && r.Figure.Contains("/email ")
            ? (r.Value >= ParseTarget(r.Target) && P99(r.Extra) < 50 ? "yes" : "no")
            : (r.Value >= ParseTarget(r.Target) ? "yes" : "no"),
        _ => "",
    };

    private static double ParseTarget(string t) => double.Parse(new string(t.Where(c => char.IsDigit(c)).ToArray()), Inv);

    private static double P99(string extra)
    {
        var i = extra.IndexOf("p99 ", StringComparison.Ordinal) + 4;
        var j = extra.IndexOf(" ms", i, StringComparison.Ordinal);
        return double.Parse(extra[i..j], Inv);
    }

    // ---------------- accept ----------------

    private static async Task AcceptAsync(List<Row> rows, string storeName, string? store, RawStore raw, string body, TimeSpan seconds,
        TimeSpan warmup, TimeSpan jitWarmup, int rounds, int[] batchClients, int singleClients, HashSet<string> skip,
        string? repo, string? dll, bool keep, CancellationToken ct)
    {
        Console.WriteLine($"## {storeName}: accept (mailroom serve --roles api)");
        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, store, keep, ct,
            ["--roles", "api", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9"]);
        var token = await SetupAsync(mailroom, ct);
        var batchJson = BatchJson(body, 500);
        var singleJson = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(Message(body, 0)));
        using (var check = LoadRunner.CreateClient(mailroom.BaseAddress, 1))
            await CheckBatchAsync(check, token, BatchJson(body, 3), ct);

        Func<int, long, CancellationToken, Task<Outcome>> Post(HttpClient client, string path, byte[] json) => async (w, n, c) =>
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, path);
            req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
            req.Content = new ByteArrayContent(json);
            req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead, c).ConfigureAwait(false);
            await res.Content.LoadIntoBufferAsync(c).ConfigureAwait(false);
            return res.StatusCode == HttpStatusCode.OK ? Outcome.Success : Outcome.Status(res.StatusCode);
        };

        if (jitWarmup > TimeSpan.Zero)
        {
            if (!skip.Contains("batch"))
            {
                using var c = LoadRunner.CreateClient(mailroom.BaseAddress, batchClients.Max());
                var w = await LoadRunner.RunAsync(batchClients.Max(), jitWarmup, TimeSpan.FromSeconds(0.2), Post(c, "email/batch", batchJson), mailroom.Process, ct);
                Console.WriteLine($"jit warm-up  batch c={batchClients.Max()} {jitWarmup.TotalSeconds:0.#} s ({w.Errors} errors in last 0.2 s)");
            }
            if (!skip.Contains("single"))
            {
                using var c = LoadRunner.CreateClient(mailroom.BaseAddress, singleClients);
                var w = await LoadRunner.RunAsync(singleClients, jitWarmup / 2, TimeSpan.FromSeconds(0.2), Post(c, "email", singleJson), mailroom.Process, ct);
                Console.WriteLine($"jit warm-up  single c={singleClients} {(jitWarmup / 2).TotalSeconds:0.#} s ({w.Errors} errors in last 0.2 s)");
            }
        }

        var batch = batchClients.ToDictionary(c => c, _ => new List<BatchResult>());
        var single = new List<CellResult>();
        var rawBatch = new List<double>();
        var schemaBatch = new List<double>();
        var rawSingle = new List<double>();
        var errors = new Dictionary<string, int>();
        for (var r = 1; r <= rounds; r++)
        {
            if (!skip.Contains("batch"))
            {
                rawBatch.Add(await raw.InsertsAsync(1, 500, body, seconds, ct));
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  raw {storeName} 500 rows/commit, 1 writer: {rawBatch[^1],8:0} rows/s"));
                schemaBatch.Add(await raw.SchemaInsertsAsync(500, body, seconds, ct));
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  same rows into Mailroom's outbound_messages (its indexes + search index), 500 rows/commit, 1 writer: {schemaBatch[^1],8:0} rows/s"));
                foreach (var clients in batchClients)
                {
                    using var c = LoadRunner.CreateClient(mailroom.BaseAddress, clients);
                    var res = await BatchCellAsync(clients, warmup, seconds, Post(c, "email/batch", batchJson), mailroom.Process, ct);
                    Alive(mailroom);
                    batch[clients].Add(res);
                    if (res.Errors > 0)
                        errors["batch errors"] = errors.GetValueOrDefault("batch errors") + res.Errors;
                    Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  POST /email/batch c={clients,-3} {res.Completed,4} batches done, {res.Rate,8:0} msgs/s (pro rata over the window)  batch p50 {res.P50Ms,7:0} ms  errors {res.Errors}  cpu% mailroom {res.ServerCpu:0} machine {res.Machine:0}  mailroom cpu/msg {res.CpuMsPerMsg:0.000} ms"));
                }
            }
            if (!skip.Contains("single"))
            {
                rawSingle.Add(await raw.InsertsAsync(singleClients, 1, body, seconds, ct));
                Console.WriteLine(string.Create(Inv, $"round {r}/{rounds}  raw {storeName} 1 row/commit, {singleClients} writers: {rawSingle[^1],8:0} rows/s"));
                using var c = LoadRunner.CreateClient(mailroom.BaseAddress, singleClients);
                var res = await LoadRunner.RunAsync(singleClients, warmup, seconds, Post(c, "email", singleJson), mailroom.Process, ct);
                Alive(mailroom);
                single.Add(res);
                Merge(errors, res);
                Console.WriteLine($"round {r}/{rounds}  {Report.Cell("POST /email", res)}");
            }
        }
        if (errors.Count > 0)
            Console.WriteLine($"errors: {string.Join("; ", errors.Select(e => $"{e.Key} × {e.Value}"))}");
        Console.WriteLine();

        if (!skip.Contains("batch"))
            foreach (var (clients, list) in batch)
                rows.Add(new Row("batch", storeName, $"POST /email/batch (500 × {body.Length / 1024.0:0.#} KB), {clients} client(s)",
                    Report.Median(list.Select(x => x.Rate)), "msgs/s",
                    $"raw {storeName} insert, 500 rows/commit, rows/s", Report.Median(rawBatch), "≥ 0.85 of the ceiling",
                    string.Create(Inv, $"real-schema insert {Report.Median(schemaBatch):0} rows/s (Mailroom / it {Report.Median(list.Select(x => x.Rate)) / Report.Median(schemaBatch):0.00}); batch p50 {Report.Median(list.Select(x => x.P50Ms)):0} ms; mailroom CPU {Report.Median(list.Select(x => x.ServerCpu)):0}%, {Report.Median(list.Select(x => x.CpuMsPerMsg)):0.000} ms/msg; by round {string.Join(" / ", list.Select(x => x.Rate.ToString("0", Inv)))}; errors {list.Sum(x => x.Errors)}")));
        if (!skip.Contains("single"))
            rows.Add(new Row("single", storeName, $"POST /email, {singleClients} clients", Report.Median(single.Select(x => x.RequestsPerSecond)), "req/s",
                $"raw {storeName} insert, 1 row/commit, {singleClients} threads, rows/s", Report.Median(rawSingle), "≥ 2.5× the ceiling, p99 < 25 ms",
                string.Create(Inv, $"p50 {Report.Median(single.Select(x => x.Latencies.PercentileMs(50))):0.0} ms, p99 {Report.Median(single.Select(x => x.Latencies.PercentileMs(99))):0.0} ms; mailroom CPU {Report.Median(single.Select(x => x.ServerCpuPercent)):0}%, {Report.Median(single.Select(x => x.ServerCpuMsPerRequest)):0.00} ms/req; by round {string.Join(" / ", single.Select(x => x.RequestsPerSecond.ToString("0", Inv)))}; errors {single.Sum(x => x.Errors)}")));
    }

    internal sealed record BatchResult(double Rate, double P50Ms, int Errors, int Completed, double ServerCpu, double Machine, double CpuMsPerMsg);

    /// <summary>Closed loop of <paramref name="clients"/> batch posters. A 500-message batch can take longer than a
    /// short window on a loaded machine, so each batch counts pro rata: 500 × (the part of its [start, end] inside
    /// the window) / (its duration); msgs/s = that sum / window.</summary>
    internal static async Task<BatchResult> BatchCellAsync(int clients, TimeSpan warmup, TimeSpan window,
        Func<int, long, CancellationToken, Task<Outcome>> send, Process? server, CancellationToken ct)
    {
        var origin = Stopwatch.StartNew();
        var w0 = warmup.TotalSeconds;
        var w1 = w0 + window.TotalSeconds;
        var spans = new List<(double Start, double End, bool Ok)>[clients];
        CpuSnapshot? cpu = null;
        (double ServerPercent, double BenchPercent, double MachineBusyPercent) usage = default;
        var timer = Task.Run(async () =>
        {
            await Task.Delay(warmup, ct);
            cpu = CpuSnapshot.Take(server);
            await Task.Delay(window, ct);
            usage = cpu.Value.Since(server);
        }, ct);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async w =>
        {
            var list = spans[w] = [];
            for (long n = 0; origin.Elapsed.TotalSeconds < w1 && !ct.IsCancellationRequested; n++)
            {
                var start = origin.Elapsed.TotalSeconds;
                bool ok;
                try { ok = (await send(w, n, ct)).Ok; }
                catch (Exception) when (!ct.IsCancellationRequested) { ok = false; }
                list.Add((start, origin.Elapsed.TotalSeconds, ok));
            }
        }));
        await timer;
        var all = spans.SelectMany(x => x).ToList();
        var msgs = all.Where(x => x.Ok).Sum(x => 500 * Math.Max(0, Math.Min(x.End, w1) - Math.Max(x.Start, w0)) / Math.Max(1e-9, x.End - x.Start));
        var inWindow = all.Where(x => x.End > w0 && x.Start < w1).ToList();
        var durations = inWindow.Select(x => (x.End - x.Start) * 1000).ToList();
        var rate = msgs / window.TotalSeconds;
        return new BatchResult(rate, Report.Median(durations), inWindow.Count(x => !x.Ok), all.Count(x => x.Ok && x.End > w0 && x.End <= w1),
            usage.ServerPercent, usage.MachineBusyPercent, rate > 0 ? usage.ServerPercent / 100 * 1000 / rate : double.NaN);
    }

    private static void Merge(Dictionary<string, int> into, CellResult r)
    {
        foreach (var (k, v) in r.ErrorKinds)
            into[k] = into.GetValueOrDefault(k) + v;
    }

    private static void Alive(MailroomProcess m)
    {
        if (m.Process is { HasExited: true } p)
            throw new BenchException($"Mailroom exited ({p.ExitCode}) during the run:\n{m.LogTail()}");
    }

    // ---------------- delivery ----------------

    private static async Task<Row> DeliveryAsync(string storeName, string? store, SmtpSink sink, string body, int messages, TimeSpan timeout,
        double rsa, double smtp, string? repo, string? dll, bool keep, CancellationToken ct)
    {
        Console.WriteLine($"## {storeName}: end-to-end delivery (mailroom serve --roles all --relay 127.0.0.1:{sink.Port})");
        await using var mailroom = await MailroomProcess.StartAsync(repo, dll, store, keep, ct,
            ["--roles", "all", "--platform-domain", "bench.test", "--dns", "127.0.0.1:9", "--relay", $"127.0.0.1:{sink.Port}", "--helo", "bench.test"]);
        var token = await SetupAsync(mailroom, ct);
        using var http = LoadRunner.CreateClient(mailroom.BaseAddress, 8);
        const int clients = 4;

        // Warm-up (not measured): 2 000 messages through the whole path, so the JIT has tiered up.
        sink.Reset(); // the SMTP ceiling's messages are in the count
        var warm = await SubmitAsync(http, token, body, Math.Min(2000, messages), clients, ct);
        var ok = await WaitSinkAsync(sink, warm.Count, timeout, null, ct);
        Console.WriteLine($"warm-up: {warm.Count} messages submitted, sink has {sink.Messages}{(ok ? "" : " (timed out)")}");
        await Task.Delay(500, ct);
        if (!ok)
            throw new BenchException("the warm-up messages did not all reach the sink within --delivery-timeout");
        sink.Reset();

        var cpu = CpuSnapshot.Take(mailroom.Process);
        var sw = Stopwatch.StartNew();
        var submitTask = SubmitAsync(http, token, body, messages, clients, ct);
        var submitted = await submitTask;
        var acceptSeconds = sw.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(Inv, $"submitted {submitted.Count} in {acceptSeconds:0.0} s ({submitted.Count / acceptSeconds:0} msgs/s accepted); sink has {sink.Messages}"));
        var done = await WaitSinkAsync(sink, submitted.Count, timeout, sw, ct);
        var elapsed = sw.Elapsed.TotalSeconds;
        var usage = cpu.Since(mailroom.Process);
        var delivered = sink.Messages;
        var rate = delivered / elapsed;
        Console.WriteLine(string.Create(Inv, $"sink received {delivered}/{submitted.Count} in {elapsed:0.0} s{(done ? "" : " (TIMED OUT)")}: {rate:0} msgs/s end to end; " +
            $"mailroom CPU {usage.ServerPercent:0}%, bench+sink {usage.BenchPercent:0}%, machine {usage.MachineBusyPercent:0}%; {usage.ServerPercent / 100 * elapsed * 1000 / Math.Max(1, delivered):0.00} ms mailroom CPU/msg"));
        var details = await DetailsAsync(http, token, submitted[^1], ct);
        Console.WriteLine($"check: GET /messages/outbound/{submitted[^1]}/details → {details}");
        Console.WriteLine();

        // Issue 18's target is a ratio to RSA-2048 signing on 2 threads measured in the same run (the SMTP ceiling is shown
        // beside it: it is far higher on a quiet machine, so RSA is the one delivery can approach).
        return new Row("delivery", storeName, $"DKIM-signed delivery to loopback sink, {submitted.Count} msgs (submit → all at sink)",
            rate, "msgs/s", $"RSA-2048 sign 2 threads, sig/s (MailKit→sink {smtp:0}/s)", rsa, "≥ 0.6 of RSA signing",
            string.Create(Inv, $"accept phase {submitted.Count / acceptSeconds:0} msgs/s; vs RSA {rate / rsa:0.00}, vs SMTP {rate / smtp:0.00}; mailroom CPU {usage.ServerPercent:0}%, {usage.ServerPercent / 100 * elapsed * 1000 / Math.Max(1, delivered):0.00} ms/msg; {(done ? "all delivered" : "timed out")}; last message: {details}"));
    }

    internal static async Task<List<string>> SubmitAsync(HttpClient http, string token, string body, int messages, int clients, CancellationToken ct)
    {
        var ids = new List<string>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (true)
            {
                var start = Interlocked.Add(ref next, 500) - 500;
                if (start >= messages)
                    return;
                var n = Math.Min(500, messages - start);
                var json = BatchJson(body, n, start);
                using var req = new HttpRequestMessage(HttpMethod.Post, "email/batch");
                req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
                req.Content = new ByteArrayContent(json);
                req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var res = await http.SendAsync(req, ct);
                var text = await res.Content.ReadAsStringAsync(ct);
                if (res.StatusCode != HttpStatusCode.OK)
                    throw new BenchException($"POST /email/batch answered {(int)res.StatusCode}: {text[..Math.Min(400, text.Length)]}");
                using var doc = JsonDocument.Parse(text);
                var got = new List<string>();
                foreach (var e in doc.RootElement.EnumerateArray())
                {
                    if (e.GetProperty("ErrorCode").GetInt32() != 0)
                        throw new BenchException($"batch item refused: {e}");
                    got.Add(e.GetProperty("MessageID").GetString()!);
                }
                lock (ids)
                    ids.AddRange(got);
            }
        }));
        return ids;
    }

    private static async Task<bool> WaitSinkAsync(SmtpSink sink, long count, TimeSpan timeout, Stopwatch? progress, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var lastPrint = 0.0;
        while (sink.Messages < count)
        {
            if (sw.Elapsed > timeout)
                return false;
            await Task.Delay(20, ct);
            if (progress is not null && progress.Elapsed.TotalSeconds - lastPrint >= 2)
            {
                lastPrint = progress.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(Inv, $"  t={lastPrint:0} s: sink has {sink.Messages} ({sink.Connections} connections so far)"));
            }
        }
        return true;
    }

    private static async Task<string> DetailsAsync(HttpClient http, string token, string id, CancellationToken ct)
    {
        for (var i = 0; i < 50; i++)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, $"messages/outbound/{id}/details");
            req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
            using var res = await http.SendAsync(req, ct);
            var text = await res.Content.ReadAsStringAsync(ct);
            if (res.StatusCode != HttpStatusCode.OK)
                return $"HTTP {(int)res.StatusCode}";
            using var doc = JsonDocument.Parse(text);
            var events = doc.RootElement.TryGetProperty("MessageEvents", out var ev)
                ? ev.EnumerateArray().Select(e => e.TryGetProperty("Type", out var t) ? t.GetString() : "?").ToList()
                : [];
            var status = doc.RootElement.TryGetProperty("Status", out var s) ? s.ToString() : "?";
            if (events.Contains("Delivered") || i == 49)
                return $"Status {status}, events [{string.Join(", ", events)}]";
            await Task.Delay(100, ct);
        }
        return "?";
    }

    // ---------------- setup and payloads ----------------

    internal static async Task<string> SetupAsync(MailroomProcess mailroom, CancellationToken ct)
    {
        Console.WriteLine($"mailroom: {mailroom.Dll} (built {File.GetLastWriteTimeUtc(mailroom.Dll):yyyy-MM-dd HH:mm} UTC), pid {mailroom.Process?.Id}, {mailroom.Store}");
        var account = (await mailroom.CreateAccountAsync("Bench", "bench@example.com", ct)).AccountToken;
        using var http = LoadRunner.CreateClient(mailroom.BaseAddress, 1);
        using var req = new HttpRequestMessage(HttpMethod.Post, "servers");
        req.Headers.TryAddWithoutValidation(AccountTokenHeader, account);
        req.Content = new StringContent(JsonSerializer.Serialize(new { Name = $"send bench {Environment.ProcessId}" }), Encoding.UTF8, "application/json");
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK)
            throw new BenchException($"POST /servers answered {(int)res.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("ApiTokens")[0].GetString() ?? throw new BenchException($"no ApiTokens in {text}");
    }

    private static async Task CheckBatchAsync(HttpClient http, string token, byte[] json, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "email/batch");
        req.Headers.TryAddWithoutValidation(ServerTokenHeader, token);
        req.Content = new ByteArrayContent(json);
        req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var res = await http.SendAsync(req, ct);
        var text = await res.Content.ReadAsStringAsync(ct);
        if (res.StatusCode != HttpStatusCode.OK || text.Contains("\"ErrorCode\":4", StringComparison.Ordinal) || !text.Contains("\"ErrorCode\":0", StringComparison.Ordinal))
            throw new BenchException($"POST /email/batch check answered {(int)res.StatusCode}: {text[..Math.Min(600, text.Length)]}");
        using var doc = JsonDocument.Parse(text);
        foreach (var e in doc.RootElement.EnumerateArray())
            if (e.GetProperty("ErrorCode").GetInt32() != 0)
                throw new BenchException($"batch item refused: {e}");
        Console.WriteLine("setup: account + server created; a 3-message batch was accepted (ErrorCode 0 each)");
    }

    private static object Message(string body, int n) => new
    {
        From = "app@bench.test",
        To = $"user{n % 100}@sink.test",
        Subject = $"bench message {n}",
        TextBody = body,
    };

    private static byte[] BatchJson(string body, int count, int first = 0) =>
        JsonSerializer.SerializeToUtf8Bytes(Enumerable.Range(first, count).Select(i => Message(body, i)).ToArray());

    /// <summary>Plain text of about <paramref name="chars"/> characters in 72-character lines.</summary>
    public static string MakeBody(int chars)
    {
        const string words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ";
        var sb = new StringBuilder(chars + 80);
        var col = 0;
        for (var i = 0; sb.Length < chars; i++)
        {
            var c = words[i % words.Length];
            if (col >= 72 && c == ' ')
            {
                sb.Append("\r\n");
                col = 0;
                continue;
            }
            sb.Append(c);
            col++;
        }
        return sb.ToString();
    }
}

/// <summary>The raw durable-insert ceiling's own store: a SQLite WAL file (synchronous=FULL) in a temp folder, or a
/// fresh PostgreSQL database dropped at the end.</summary>
public sealed class RawStore : IAsyncDisposable
{
    private string? _dir, _file, _pg, _admin, _db, _schemaFile, _schemaPg, _schemaDb;

    public static async Task<RawStore> CreateAsync(string? postgres, CancellationToken ct)
    {
        var s = new RawStore();
        if (postgres is null)
        {
            s._dir = Directory.CreateTempSubdirectory("mailroom-bench-raw-").FullName;
            s._file = Path.Combine(s._dir, "raw.db");
            Ceilings.SqliteCreate(s._file);
            s._schemaFile = Path.Combine(s._dir, "schema.db");
            await Ceilings.SchemaCreateAsync(s._schemaFile, null, ct);
        }
        else
        {
            s._admin = DatabaseSettings.NormalizePostgres(postgres);
            s._db = $"mailroom_bench_raw_{DateTime.UtcNow:yyyyMMddHHmmss}_{Environment.ProcessId}";
            await using (var c = new NpgsqlConnection(s._admin))
            {
                await c.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{s._db}\"", c);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            s._pg = new NpgsqlConnectionStringBuilder(s._admin) { Database = s._db, MaxPoolSize = 200 }.ConnectionString;
            await Ceilings.PgCreateAsync(s._pg, ct);
            s._schemaDb = s._db + "_schema";
            await using (var c = new NpgsqlConnection(s._admin))
            {
                await c.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{s._schemaDb}\"", c);
                await cmd.ExecuteNonQueryAsync(ct);
            }
            s._schemaPg = new NpgsqlConnectionStringBuilder(s._admin) { Database = s._schemaDb }.ConnectionString;
            await Ceilings.SchemaCreateAsync(null, s._schemaPg, ct);
        }
        return s;
    }

    public Task<double> InsertsAsync(int writers, int rowsPerCommit, string body, TimeSpan window, CancellationToken ct) =>
        _file is not null
            ? Task.Run(() => Ceilings.SqliteInserts(_file, writers, rowsPerCommit, body, window, ct), ct)
            : Ceilings.PgInsertsAsync(_pg!, writers, rowsPerCommit, body, window, ct);

    /// <summary>The same rows into Mailroom's own <c>outbound_messages</c> (every index, the search index), 1 writer.</summary>
    public Task<double> SchemaInsertsAsync(int rowsPerCommit, string body, TimeSpan window, CancellationToken ct) =>
        _schemaFile is not null
            ? Task.Run(() => Ceilings.SchemaSqliteInserts(_schemaFile, rowsPerCommit, body, window, ct), ct)
            : Ceilings.SchemaPgInsertsAsync(_schemaPg!, rowsPerCommit, body, window, ct);

    public async ValueTask DisposeAsync()
    {
        if (_dir is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
        if (_db is not null)
        {
            NpgsqlConnection.ClearAllPools();
            try
            {
                await using var c = new NpgsqlConnection(_admin);
                await c.OpenAsync();
                foreach (var name in new[] { _db, _schemaDb }.OfType<string>())
                {
                    await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", c);
                    await cmd.ExecuteNonQueryAsync();
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                Console.Error.WriteLine($"warning: could not drop {_db}: {e.Message}");
            }
        }
    }
}
