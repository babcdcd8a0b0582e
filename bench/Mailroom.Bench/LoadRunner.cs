using System.Diagnostics;
using System.Net;

namespace Mailroom.Bench;

/// <summary>Outcome of one request as the load loop sees it.</summary>
public readonly record struct Outcome(bool Ok, string? Error)
{
    public static readonly Outcome Success = new(true, null);
    public static Outcome Status(HttpStatusCode code) => new(false, $"HTTP {(int)code}");
}

/// <summary>One measured window of one cell (endpoint × concurrency × round).</summary>
public sealed record CellResult(
    int Concurrency,
    int Requests,
    int Errors,
    IReadOnlyDictionary<string, int> ErrorKinds,
    double Seconds,
    Latencies Latencies,
    double ServerCpuPercent,
    double BenchCpuPercent,
    double MachineBusyPercent)
{
    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>Mailroom CPU time per request (ms): steadier than req/s on a machine shared with other work.</summary>
    public double ServerCpuMsPerRequest => Requests == 0 ? double.NaN : ServerCpuPercent / 100 * Seconds * 1000 / Requests;
}

/// <summary>
/// Closed-loop load: <c>concurrency</c> workers, each sending its next request as soon as the previous answer is
/// read, over one HTTP/1.1 connection each. Phases: warm-up (not recorded), measured window, then the workers
/// finish their request in flight. A request belongs to the window if it <em>started</em> in it (those still in
/// flight at the end balance those from the warm-up that end inside it), and its latency is recorded.
/// </summary>
public static class LoadRunner
{
    private const int Warmup = 0, Measure = 1, Stop = 2;

    /// <summary>An HttpClient for <paramref name="concurrency"/> workers: one pooled connection each, no cookies,
    /// no decompression, no proxy.</summary>
    public static HttpClient CreateClient(Uri baseAddress, int concurrency) =>
        new(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(concurrency, 1) + 8,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(120),
        };

    /// <param name="send">One request by worker <c>w</c> (its <c>n</c>-th); must read the whole answer.</param>
    /// <param name="serverProcess">The Mailroom process, to report its CPU use over the window (optional).</param>
    public static async Task<CellResult> RunAsync(int concurrency, TimeSpan warmup, TimeSpan duration,
        Func<int, long, CancellationToken, Task<Outcome>> send, Process? serverProcess, CancellationToken ct)
    {
        var phase = Warmup;
        var histograms = new LatencyHistogram[concurrency];
        var errors = new Dictionary<string, int>[concurrency];
        var errorCount = new int[concurrency];
        // Estimate of samples per worker: plenty for 10 s at ~20k req/s on one worker; the arrays grow if needed.
        var capacity = Math.Max(4096, (1 << 18) / concurrency);
        for (var w = 0; w < concurrency; w++)
        {
            histograms[w] = new LatencyHistogram(capacity);
            errors[w] = [];
        }

        async Task Worker(int w)
        {
            var h = histograms[w];
            var e = errors[w];
            for (long n = 0; ; n++)
            {
                var started = Volatile.Read(ref phase);
                if (started == Stop || ct.IsCancellationRequested)
                    return;
                var t0 = Stopwatch.GetTimestamp();
                Outcome outcome;
                try
                {
                    outcome = await send(w, n, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    outcome = new Outcome(false, ex.GetType().Name + ": " + (ex.InnerException ?? ex).Message);
                }
                var elapsed = Stopwatch.GetTimestamp() - t0;
                if (started != Measure)
                    continue;
                h.Record(elapsed);
                if (!outcome.Ok)
                {
                    errorCount[w]++;
                    var kind = outcome.Error ?? "error";
                    e[kind] = e.GetValueOrDefault(kind) + 1;
                }
            }
        }

        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var id = w;
            workers[w] = Task.Run(() => Worker(id), CancellationToken.None);
        }

        try
        {
            await Task.Delay(warmup, ct);
            var cpu = CpuSnapshot.Take(serverProcess);
            var t0 = Stopwatch.GetTimestamp();
            Volatile.Write(ref phase, Measure);
            await Task.Delay(duration, ct);
            Volatile.Write(ref phase, Stop);
            var seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var usage = cpu.Since(serverProcess);
            await Task.WhenAll(workers);
            ct.ThrowIfCancellationRequested();

            var kinds = new Dictionary<string, int>();
            foreach (var e in errors)
                foreach (var (k, v) in e)
                    kinds[k] = kinds.GetValueOrDefault(k) + v;
            var latencies = LatencyHistogram.Merge(histograms);
            return new CellResult(concurrency, latencies.Count, errorCount.Sum(), kinds, seconds, latencies,
                usage.ServerPercent, usage.BenchPercent, usage.MachineBusyPercent);
        }
        finally
        {
            Volatile.Write(ref phase, Stop);
            try { await Task.WhenAll(workers); } catch { /* reported above or cancelled */ }
        }
    }
}

/// <summary>CPU time of the Mailroom process, of this process and of the whole machine (/proc/stat) at one
/// instant; <see cref="Since"/> gives each as a percentage of one core over the interval (machine: of all cores).</summary>
public readonly record struct CpuSnapshot(long Timestamp, TimeSpan Server, TimeSpan Bench, long MachineBusy, long MachineTotal)
{
    public static CpuSnapshot Take(Process? server)
    {
        var (busy, total) = ReadProcStat();
        return new CpuSnapshot(Stopwatch.GetTimestamp(), ServerCpu(server), Process.GetCurrentProcess().TotalProcessorTime, busy, total);
    }

    public (double ServerPercent, double BenchPercent, double MachineBusyPercent) Since(Process? server)
    {
        var now = Take(server);
        var wall = Stopwatch.GetElapsedTime(Timestamp, now.Timestamp).TotalSeconds;
        var machine = now.MachineTotal > MachineTotal
            ? 100.0 * (now.MachineBusy - MachineBusy) / (now.MachineTotal - MachineTotal)
            : double.NaN;
        return (100.0 * (now.Server - Server).TotalSeconds / wall, 100.0 * (now.Bench - Bench).TotalSeconds / wall, machine);
    }

    private static TimeSpan ServerCpu(Process? p)
    {
        if (p is null)
            return TimeSpan.Zero;
        try
        {
            p.Refresh();
            return p.TotalProcessorTime;
        }
        catch (InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>Jiffies busy and total from the first line of /proc/stat; zeros where there is none.</summary>
    private static (long Busy, long Total) ReadProcStat()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var idle = f[3] + (f.Length > 4 ? f[4] : 0); // idle + iowait
            var total = f.Take(Math.Min(f.Length, 8)).Sum(); // user..steal; guest is already in user
            return (total - idle, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return (0, 0);
        }
    }
}
