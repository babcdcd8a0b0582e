using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Bench;

/// <summary>
/// Webhook fan-out: events/s from the outbox to a loopback receiver through Mailroom's dispatcher (claim, sign, POST,
/// record each attempt), beside a plain HttpClient posting the same bodies to the same receiver with the same
/// concurrency, in the same run. Events are SubscriptionChanges made through the Suppressions API of an in-process
/// Mailroom (role api, so no worker posts them early); then the dispatcher is run the way the worker runs it.
/// </summary>
public static class WebhookLoad
{
    public const string Help = """
        Webhook fan-out: outbox -> loopback receiver through the dispatcher vs a plain HttpClient (same bodies, same receiver).
          --events N    events in the outbox (default 20000), filled once through the Suppressions API; each dispatcher
                        pass sets their delivery rows back to due (and deletes their attempts) and posts all of them
          --seconds S   each measured window repeats passes over the N events until it has lasted S seconds (default 2):
                        a window of 3,000 events lasted 50-115 ms for the plain client, too short to measure
          --rounds N    rounds (default 5); each measures dispatcher, plain, plain, dispatcher (ABBA) so drift of the
                        machine's load hits both sides alike; per-round figures and medians are printed
          --warmup N    rounds run first and not counted (default 1): Mailroom's code is JIT-compiled at run time
                        (tier 0, then tier 1 in the background) while the plain client's is the framework's
                        precompiled code, so a cold first round measures the JIT, not the dispatcher
          --tier-up N   small dispatcher/plain cycles (50 events each) run first, not counted (default 100): the
                        dispatcher's per-claim and per-commit methods run once per 500 rows, so a warm-up round of
                        a few thousand events calls them a few times only and they were still at tier 0 (and being
                        compiled: 13 % of the window's samples in libclrjit) in the measured rounds; these cycles
                        bring both sides to the steady state a long-running worker is in
          --plain-headers  the plain client also sends the dispatcher's extra headers (signature, trace id, retries
                        remaining, user agent; values copied from one dispatcher request, not computed): shows what the
                        receiver's parsing of them costs (off by default: the ceiling is a plain POST)
          --alloc       sample allocations (the runtime's AllocationTick, about one per 100 KB) by type in each phase and
                        print the largest per event at the end; the sampling itself costs a few percent, so rates
                        from such a run are not the figures
          --postgres CONN  run Mailroom's store on PostgreSQL: a fresh database on this server (e.g.
                        "Host=127.0.0.1;Port=5432;Username=postgres"), dropped afterwards; default SQLite. The CPU
                        per event then also counts the server's processes (comm "postgres") in the dispatcher's windows
          --windows     print each measured window's start and end on CLOCK_MONOTONIC (seconds), to cut a
                        `perf record -k CLOCK_MONOTONIC` profile to it (`perf report --time START,END`), and what the
                        process did in it per event: bytes allocated, thread-pool work items, context switches
        """;

    /// <summary>
    /// Waits (3 s at most) until the runtime stops compiling: the fill through the API makes hundreds of methods hot, and
    /// their tier-1 compilation runs in the background after a delay, so without this wait it fell into the dispatcher's
    /// measured window (a profile showed 8-15 % of that window's samples in the JIT) and not into the plain client's.
    /// Both phases start after it.
    /// </summary>
    private static async Task JitSettledAsync(CancellationToken ct)
    {
        var last = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (int quiet = 0, polls = 0; quiet < 3 && polls < 30; polls++)
        {
            await Task.Delay(100, ct);
            var now = System.Runtime.JitInfo.GetCompiledMethodCount();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    /// <summary>What the process did in a window (--windows): bytes allocated, gen0 collections, thread-pool work items
    /// and context switches of all its threads (voluntary and not, from /proc).</summary>
    private static (long Alloc, int Gen0, long Items, long Ctx) Diag()
    {
        long ctx = 0;
        foreach (var t in Directory.GetDirectories("/proc/self/task"))
            try
            {
                foreach (var l in File.ReadAllLines(Path.Combine(t, "status")))
                    if (l.StartsWith("voluntary_ctxt_switches", StringComparison.Ordinal) || l.StartsWith("nonvoluntary_ctxt_switches", StringComparison.Ordinal))
                        ctx += long.Parse(l.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        return (GC.GetTotalAllocatedBytes(false), GC.CollectionCount(0), ThreadPool.CompletedWorkItemCount, ctx);
    }

    private static void PrintDiag(string phase, (long Alloc, int Gen0, long Items, long Ctx) a, int events)
    {
        var b = Diag();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"diag {phase}: alloc {(double)(b.Alloc - a.Alloc) / events:0} B/event, gen0 {b.Gen0 - a.Gen0}, work items {(double)(b.Items - a.Items) / events:0.00}/event, ctx switches {(double)(b.Ctx - a.Ctx) / events:0.00}/event, threads {ThreadPool.ThreadCount}"));
    }

    /// <summary>Stopwatch ticks on Linux are CLOCK_MONOTONIC nanoseconds, the clock <c>perf record -k CLOCK_MONOTONIC</c> stamps samples with.</summary>
    private static void PrintWindow(string phase, long start) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"window {phase}: {(double)start / Stopwatch.Frequency:0.000000},{(double)Stopwatch.GetTimestamp() / Stopwatch.Frequency:0.000000}"));

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var events = args.Int("events", 20000, 50);
        var seconds = args.Int("seconds", 2, 0);
        var rounds = args.Int("rounds", 5, 1);
        var warmup = args.Int("warmup", 1, 0);
        var windows = args.Flag("windows");
        var plainHeaders = args.Flag("plain-headers");
        using var alloc = args.Flag("alloc") ? new AllocationSampler() : null;
        var phaseEvents = new Dictionary<string, long>();
        var tierUp = args.Int("tier-up", 100, 0);
        var postgres = args.String("postgres");
        args.RejectUnknown();
        var database = postgres is null ? null : new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Database = $"mailroom_bench_webhooks_{Environment.ProcessId}" };

        var received = 0;
        var bodies = new ConcurrentQueue<string>();
        var keep = true;
        var target = int.MaxValue;
        // Request header bytes (names, values, ": " and CRLF) of the first 256 requests of a window: what the receiver parses.
        long headerBytes = 0;
        var headerSamples = 0;
        Dictionary<string, string>? dispatcherHeaders = null;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // No appsettings reloading (as Mailroom's own host): it watches the working folder with inotify, and with the
        // bench's data folder beneath it (run from /tmp) every WAL write woke the watcher during the dispatcher's windows.
        var rb = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        rb.WebHost.UseUrls("http://127.0.0.1:0");
        rb.Logging.ClearProviders();
        await using var receiver = rb.Build();
        receiver.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Interlocked.Increment(ref headerSamples) <= 256)
            {
                long bytes = 0;
                foreach (var h in http.Request.Headers)
                    bytes += h.Key.Length + 4 + h.Value.ToString().Length;
                Interlocked.Add(ref headerBytes, bytes);
            }
            if (Volatile.Read(ref keep))
            {
                bodies.Enqueue(body);
                if (dispatcherHeaders is null && http.Request.Headers.ContainsKey(WebhookSignature.Header))
                    Interlocked.CompareExchange(ref dispatcherHeaders, http.Request.Headers
                        .Where(h => h.Key.StartsWith("X-", StringComparison.OrdinalIgnoreCase) || h.Key == "User-Agent")
                        .ToDictionary(h => h.Key, h => h.Value.ToString()), null);
            }
            if (Interlocked.Increment(ref received) == Volatile.Read(ref target))
                all.TrySetResult();
            http.Response.StatusCode = 200;
        });
        await receiver.StartAsync(ct);
        var receiverUrl = receiver.Urls.First();

        var data = Path.Combine(Path.GetTempPath(), $"mailroom-bench-webhooks-{Environment.ProcessId}");
        Directory.CreateDirectory(data);
        var settings = MailroomSettings.Resolve(new Dictionary<string, string?>
        {
            ["Data"] = data, ["Http"] = "http://127.0.0.1:0", ["Roles"] = "api", ["AllowPrivateWebhooks"] = "true",
            ["Database"] = database?.ConnectionString,
        }, null, _ => null);
        await using var app = MailroomApp.Build(settings, b => b.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync(ct);
        try
        {
            var baseUrl = app.Urls.First();
            AccountCreated account;
            await using (var scope = app.Services.CreateAsyncScope())
                account = await scope.ServiceProvider.GetRequiredService<AccountService>().CreateAsync("Bench", "bench@example.test", ct);
            using var admin = new HttpClient { BaseAddress = new Uri(baseUrl) };
            admin.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
            var server = await (await admin.PostAsJsonAsync("/servers", new { Name = "Bench" }, ct)).Content.ReadFromJsonAsync<JsonElement>(ct);
            using var api = new HttpClient { BaseAddress = new Uri(baseUrl) };
            api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", server.GetProperty("ApiTokens")[0].GetString());
            (await api.PostAsJsonAsync("/webhooks", new { Url = receiverUrl + "/hook", Triggers = new { SubscriptionChange = new { Enabled = true } } }, ct))
                .EnsureSuccessStatusCode();
            var options = app.Services.GetRequiredService<WebhookOptions>();
            var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{events} events a pass, windows of >= {seconds} s, {rounds} rounds (dispatcher, plain, plain, dispatcher), one receiver host: " +
                $"at most {options.MaxConcurrencyPerHost} POSTs in flight (both sides), {(postgres is null ? "SQLite" : "PostgreSQL")}, {Environment.ProcessorCount} cores"));
            var seq = 0;

            // The same POSTs as the dispatcher's, 4 loops over one client (the per-host limit), as the measured phase does.
            async Task PlainAsync(HttpClient http, string[] payloads, IReadOnlyDictionary<string, string>? headers)
            {
                var next = -1;
                await Task.WhenAll(Enumerable.Range(0, options.MaxConcurrencyPerHost).Select(_ => Task.Run(async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < payloads.Length)
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Post, receiverUrl + "/hook")
                        {
                            Content = new StringContent(payloads[i], Encoding.UTF8, "application/json"),
                        };
                        if (headers is not null)
                            foreach (var (name, value) in headers)
                                request.Headers.TryAddWithoutValidation(name, value);
                        using var res = await http.SendAsync(request, ct);
                        res.EnsureSuccessStatusCode();
                    }
                }, ct)));
            }

            // Tier-up cycles (see --tier-up): each claims, posts and records 50 events, then posts the same bodies plainly.
            if (tierUp > 0)
            {
                using var warmHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.MaxConcurrencyPerHost });
                for (var c = 0; c < tierUp; c++)
                {
                    (await api.PostAsJsonAsync("/message-streams/outbound/suppressions",
                        new { Suppressions = Enumerable.Range(0, 50).Select(_ => new { EmailAddress = $"r{seq++}@example.net" }).ToArray() }, ct)).EnsureSuccessStatusCode();
                    bodies.Clear();
                    Volatile.Write(ref keep, true);
                    await dispatcher.RunOnceAsync(ct);
                    Volatile.Write(ref keep, false);
                    await PlainAsync(warmHttp, bodies.ToArray(), null);
                }
                Console.WriteLine($"tier-up: {tierUp} cycles of 50 events (not counted)");
            }

            // The measured set: N events, filled once (suppressions, 50 a call, each with its event and delivery row).
            long firstDelivery;
            await using (var scope = app.Services.CreateAsyncScope())
                firstDelivery = 1 + (await scope.ServiceProvider.GetRequiredService<MailroomDb>().WebhookDeliveries.MaxAsync(d => (long?)d.Id, ct) ?? 0);
            var fill = Stopwatch.StartNew();
            foreach (var chunk in Enumerable.Range(0, events).Select(_ => $"r{seq++}@example.net").Chunk(50))
                (await api.PostAsJsonAsync("/message-streams/outbound/suppressions",
                    new { Suppressions = chunk.Select(e => new { EmailAddress = e }).ToArray() }, ct)).EnsureSuccessStatusCode();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled {events} events in {fill.Elapsed.TotalSeconds:0.0} s"));

            // Every pass posts the same rows again: due, no attempts, no lease; their attempts deleted so the table does not grow.
            async Task ResetAsync()
            {
                await using var scope = app.Services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
                await db.Database.ExecuteSqlRawAsync("DELETE FROM webhook_attempts WHERE \"DeliveryId\" >= {0}", [firstDelivery], ct);
                await db.Database.ExecuteSqlRawAsync(
                    "UPDATE webhook_deliveries SET \"State\" = 0, \"Attempts\" = 0, \"LeaseUntil\" = 0, \"LeaseOwner\" = NULL, \"LastResult\" = '' WHERE \"Id\" >= {0}",
                    [firstDelivery], ct);
            }

            double HeaderAverage() => (double)Volatile.Read(ref headerBytes) / Math.Min(256, Math.Max(1, Volatile.Read(ref headerSamples)));
            string[] payloads = [];
            // One dispatcher window: passes (reset, then the worker's own loop until the receiver has every event and the
            // last outcome is recorded) until it has lasted `seconds`; the resets are outside the clock and the CPU count.
            async Task<(double Seconds, double CpuMicroseconds, int Events, double HeaderBytes)> DispatcherWindowAsync()
            {
                double elapsed = 0, cpu = 0;
                int posted = 0;
                Volatile.Write(ref headerBytes, 0);
                Volatile.Write(ref headerSamples, 0);
                do
                {
                    await ResetAsync();
                    bodies.Clear();
                    Volatile.Write(ref keep, payloads.Length == 0);
                    Volatile.Write(ref received, 0);
                    all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    Volatile.Write(ref target, events);
                    using var stop = new CancellationTokenSource();
                    var d0 = windows ? Diag() : default;
                    var db0 = postgres is null ? null : CpuAccounting.Snapshot(CpuAccounting.ByName("postgres"));
                    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    var start = Stopwatch.GetTimestamp();
                    alloc?.Phase("dispatcher");
                    var loop = dispatcher.RunAsync(stop.Token);
                    await all.Task.WaitAsync(ct);
                    while (dispatcher.InFlight > 0)
                        await Task.Delay(1, ct);
                    alloc?.Phase(null);
                    phaseEvents["dispatcher"] = phaseEvents.GetValueOrDefault("dispatcher") + events;
                    elapsed += Stopwatch.GetElapsedTime(start).TotalSeconds;
                    cpu += (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds;
                    if (db0 is not null)
                        cpu += CpuAccounting.Between(db0, CpuAccounting.Snapshot(db0.Keys.Concat(CpuAccounting.ByName("postgres")))) * 1e6;
                    if (windows)
                    {
                        PrintWindow("dispatcher", start);
                        PrintDiag("dispatcher", d0, events);
                    }
                    await stop.CancelAsync();
                    await loop;
                    Volatile.Write(ref target, int.MaxValue);
                    posted += events;
                    if (payloads.Length == 0)
                        payloads = bodies.ToArray();
                    Volatile.Write(ref keep, false);
                }
                while (elapsed < seconds);
                return (elapsed, cpu, posted, HeaderAverage());
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.MaxConcurrencyPerHost });
            // One plain window: passes over the dispatcher's bodies until it has lasted `seconds`.
            async Task<(double Seconds, double CpuMicroseconds, int Events, double HeaderBytes)> PlainWindowAsync()
            {
                Volatile.Write(ref headerBytes, 0);
                Volatile.Write(ref headerSamples, 0);
                var headers = plainHeaders ? dispatcherHeaders : null;
                var d0 = windows ? Diag() : default;
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var start = Stopwatch.GetTimestamp();
                var posted = 0;
                alloc?.Phase("plain");
                do
                {
                    await PlainAsync(http, payloads, headers);
                    posted += payloads.Length;
                }
                while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds);
                alloc?.Phase(null);
                phaseEvents["plain"] = phaseEvents.GetValueOrDefault("plain") + posted;
                var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds;
                if (windows)
                {
                    PrintWindow("plain", start);
                    PrintDiag("plain", d0, posted);
                }
                return (elapsed, cpu, posted, HeaderAverage());
            }

            var ours = new List<double>();
            var plain = new List<double>();
            var ratios = new List<double>();
            // CPU time of this process (receiver included) per event: steadier than rates on a shared machine.
            var oursCpu = new List<double>();
            var plainCpu = new List<double>();
            for (var r = -warmup; r < rounds; r++)
            {
                // ABBA: the dispatcher first and last, the plain client twice in the middle, so a trend in the machine's
                // load over the round weighs on both sides alike. Each side's figure is its two windows together.
                await JitSettledAsync(ct);
                var a1 = await DispatcherWindowAsync();
                await JitSettledAsync(ct);
                var b1 = await PlainWindowAsync();
                var b2 = await PlainWindowAsync();
                await JitSettledAsync(ct);
                var a2 = await DispatcherWindowAsync();
                var oursRate = (a1.Events + a2.Events) / (a1.Seconds + a2.Seconds);
                var plainRate = (b1.Events + b2.Events) / (b1.Seconds + b2.Seconds);
                var oursUs = (a1.CpuMicroseconds + a2.CpuMicroseconds) / (a1.Events + a2.Events);
                var plainUs = (b1.CpuMicroseconds + b2.CpuMicroseconds) / (b1.Events + b2.Events);
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"dispatcher {oursRate,8:0} events/s ({a1.Events / a1.Seconds:0} / {a2.Events / a2.Seconds:0})   " +
                    $"plain HttpClient {plainRate,8:0} posts/s ({b1.Events / b1.Seconds:0} / {b2.Events / b2.Seconds:0})   ratio {oursRate / plainRate:0.00}   " +
                    $"CPU/event {oursUs:0} vs {plainUs:0} µs   request headers {a1.HeaderBytes:0} vs {b1.HeaderBytes:0} bytes   load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
                if (r < 0)
                {
                    Console.WriteLine("warm-up: " + line + " (not counted)");
                    continue;
                }
                Console.WriteLine($"round {r + 1}: " + line);
                ours.Add(oursRate);
                plain.Add(plainRate);
                ratios.Add(oursRate / plainRate);
                oursCpu.Add(oursUs);
                plainCpu.Add(plainUs);
            }
            double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: dispatcher {Median(ours):0} events/s, plain HttpClient {Median(plain):0} posts/s, ratio of medians {Median(ours) / Median(plain):0.00}, " +
                $"median of round ratios {Median(ratios):0.00} (target >= 0.7); CPU per event (process, receiver included{(postgres is null ? "" : "; dispatcher's also PostgreSQL's")}) {Median(oursCpu):0} vs {Median(plainCpu):0} µs"));
            alloc?.Print(phaseEvents);
            if (plainHeaders)
                Console.WriteLine("plain client sent the dispatcher's headers: " + string.Join(", ", dispatcherHeaders?.Keys.ToArray() ?? []));
            return 0;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
            if (database is not null)
            {
                Npgsql.NpgsqlConnection.ClearAllPools();
                await using var admin = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(postgres) { Database = "postgres" }.ConnectionString);
                await admin.OpenAsync(CancellationToken.None);
                await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database.Database}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
    }
}

/// <summary>--alloc: the runtime's allocation ticks (GC keyword, verbose: one event per ~100 KB allocated, with the type
/// of the object that crossed the mark), summed by type within the phase set.</summary>
internal sealed class AllocationSampler : System.Diagnostics.Tracing.EventListener
{
    private volatile string? _phase;
    private readonly ConcurrentDictionary<(string Phase, string Type), long> _bytes = new();

    public void Phase(string? phase) => _phase = phase;

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (_phase is not { } phase || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null)
            return;
        var type = e.Payload![e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate((phase, type), amount, (_, v) => v + amount);
    }

    public void Print(Dictionary<string, long> events)
    {
        foreach (var (phase, n) in events)
        {
            Console.WriteLine($"allocations by type, {phase} (bytes per event, sampled):");
            foreach (var (key, bytes) in _bytes.Where(kv => kv.Key.Phase == phase).OrderByDescending(kv => kv.Value).Take(30))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(double)bytes / n,8:0}  {key.Type}"));
        }
    }
}
