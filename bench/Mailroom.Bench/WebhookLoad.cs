using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
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
          --events N    events per round (default 5000)
          --rounds N    interleaved rounds; medians are printed (default 3)
          --warmup N    rounds run first and not counted (default 1): Mailroom's code is JIT-compiled at run time
                        (tier 0, then tier 1 in the background) while the plain client's is the framework's
                        precompiled code, so a cold first round measures the JIT, not the dispatcher
          --tier-up N   small dispatcher/plain cycles (50 events each) run first, not counted (default 100): the
                        dispatcher's per-claim and per-commit methods run once per 500 rows, so a warm-up round of
                        a few thousand events calls them a few times only and they were still at tier 0 (and being
                        compiled: 13 % of the window's samples in libclrjit) in the measured rounds; these cycles
                        bring both sides to the steady state a long-running worker is in
          --windows     print each measured window's start and end on CLOCK_MONOTONIC (seconds), to cut a
                        `perf record -k CLOCK_MONOTONIC` profile to it (`perf report --time START,END`)
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

    /// <summary>Stopwatch ticks on Linux are CLOCK_MONOTONIC nanoseconds, the clock <c>perf record -k CLOCK_MONOTONIC</c> stamps samples with.</summary>
    private static void PrintWindow(string phase, int round, long start) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"window {phase} round {round + 1}: {(double)start / Stopwatch.Frequency:0.000000},{(double)Stopwatch.GetTimestamp() / Stopwatch.Frequency:0.000000}"));

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var events = args.Int("events", 5000, 50);
        var rounds = args.Int("rounds", 3, 1);
        var warmup = args.Int("warmup", 1, 0);
        var windows = args.Flag("windows");
        var tierUp = args.Int("tier-up", 100, 0);
        args.RejectUnknown();

        var received = 0;
        var bodies = new ConcurrentQueue<string>();
        var keep = true;
        var target = int.MaxValue;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rb = WebApplication.CreateSlimBuilder();
        rb.WebHost.UseUrls("http://127.0.0.1:0");
        rb.Logging.ClearProviders();
        await using var receiver = rb.Build();
        receiver.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            if (Volatile.Read(ref keep))
                bodies.Enqueue(body);
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
                $"{events} events a round, {rounds} rounds, one receiver host: at most {options.MaxConcurrencyPerHost} POSTs in flight (both sides), SQLite, {Environment.ProcessorCount} cores"));

            var ours = new List<double>();
            var plain = new List<double>();
            // CPU time of this process (receiver included) per event: steadier than rates on a shared machine.
            var oursCpu = new List<double>();
            var plainCpu = new List<double>();
            var seq = 0;

            // The same POSTs as the dispatcher's, 4 loops over one client (the per-host limit), as the measured phase does.
            async Task PlainAsync(HttpClient http, string[] payloads)
            {
                var next = -1;
                await Task.WhenAll(Enumerable.Range(0, options.MaxConcurrencyPerHost).Select(_ => Task.Run(async () =>
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < payloads.Length)
                    {
                        using var res = await http.PostAsync(receiverUrl + "/hook", new StringContent(payloads[i], Encoding.UTF8, "application/json"), ct);
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
                    await PlainAsync(warmHttp, bodies.ToArray());
                }
                Console.WriteLine($"tier-up: {tierUp} cycles of 50 events (not counted)");
            }

            for (var r = -warmup; r < rounds; r++)
            {
                // Fill the outbox: suppress N addresses (50 a call), then remove them again in the next round's fill.
                var addresses = Enumerable.Range(0, events).Select(_ => $"r{seq++}@example.net").ToList();
                foreach (var chunk in addresses.Chunk(50))
                    (await api.PostAsJsonAsync("/message-streams/outbound/suppressions",
                        new { Suppressions = chunk.Select(e => new { EmailAddress = e }).ToArray() }, ct)).EnsureSuccessStatusCode();

                bodies.Clear();
                Volatile.Write(ref keep, true);
                Volatile.Write(ref received, 0);
                all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref target, events);
                await JitSettledAsync(ct);
                // The worker's own loop, until the receiver has every event and the last batch is recorded.
                using var stop = new CancellationTokenSource();
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                var start = Stopwatch.GetTimestamp();
                var loop = dispatcher.RunAsync(stop.Token);
                await all.Task.WaitAsync(ct);
                while (dispatcher.InFlight > 0)
                    await Task.Delay(1, ct);
                watch.Stop();
                if (windows)
                    PrintWindow("dispatcher", r, start);
                oursCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / events);
                await stop.CancelAsync();
                await loop;
                Volatile.Write(ref target, int.MaxValue);
                ours.Add(events / watch.Elapsed.TotalSeconds);
                Volatile.Write(ref keep, false);

                var payloads = bodies.ToArray();
                Volatile.Write(ref received, 0);
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.MaxConcurrencyPerHost });
                await JitSettledAsync(ct);
                cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                start = Stopwatch.GetTimestamp();
                watch.Restart();
                await PlainAsync(http, payloads);
                watch.Stop();
                if (windows)
                    PrintWindow("plain", r, start);
                plain.Add(payloads.Length / watch.Elapsed.TotalSeconds);
                plainCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / payloads.Length);
                if (r < 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"warm-up: dispatcher {ours[^1],8:0} events/s   plain HttpClient {plain[^1],8:0} posts/s (not counted)"));
                    ours.RemoveAt(ours.Count - 1); plain.RemoveAt(plain.Count - 1); oursCpu.RemoveAt(oursCpu.Count - 1); plainCpu.RemoveAt(plainCpu.Count - 1);
                    continue;
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {r + 1}: dispatcher {ours[^1],8:0} events/s   plain HttpClient {plain[^1],8:0} posts/s   ratio {ours[^1] / plain[^1]:0.00}   CPU/event {oursCpu[^1]:0} vs {plainCpu[^1]:0} µs"));
            }
            double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: dispatcher {Median(ours):0} events/s, plain HttpClient {Median(plain):0} posts/s, ratio {Median(ours) / Median(plain):0.00} (target >= 0.7); CPU per event (process, receiver included) {Median(oursCpu):0} vs {Median(plainCpu):0} µs"));
            return 0;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }
}
