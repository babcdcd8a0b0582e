using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Mailroom.Bench;

/// <summary>Printing: the run's environment, one line per measured cell, the summary table (Markdown).</summary>
public static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Environment(string? repo, string store, string plan)
    {
        string commit;
        try { commit = Git(repo ?? TestPaths.FindRepoRoot(), "rev-parse --short HEAD") + (Git(repo ?? TestPaths.FindRepoRoot(), "status --porcelain --untracked-files=no -- src").Length > 0 ? " (src modified)" : ""); }
        catch (Exception e) when (e is BenchException or MailroomProcessException or System.ComponentModel.Win32Exception or InvalidOperationException) { commit = "?"; }
        Console.WriteLine($"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; checkout {commit}");
        Console.WriteLine($"machine: {System.Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        Console.WriteLine($"store: {store}; {plan}");
    }

    public static string Cell(string endpoint, CellResult r)
    {
        var l = r.Latencies;
        return string.Create(Inv,
            $"{endpoint,-13} c={r.Concurrency,-3} {r.Requests,7} req {r.RequestsPerSecond,8:0.0} req/s  " +
            $"p50 {l.PercentileMs(50),7:0.00}  p90 {l.PercentileMs(90),7:0.00}  p99 {l.PercentileMs(99),7:0.00}  max {l.MaxMs,8:0.0} ms  " +
            $"errors {r.Errors}  cpu% mailroom {r.ServerCpuPercent:0} bench {r.BenchCpuPercent:0} machine {r.MachineBusyPercent:0}  " +
            $"mailroom cpu/req {r.ServerCpuMsPerRequest:0.00} ms");
    }

    public static void Summary(Dictionary<(string Endpoint, int Clients), List<CellResult>> results)
    {
        Console.WriteLine("| endpoint | clients | requests | req/s | p50 ms | p99 ms | errors | req/s by round | mailroom CPU % | CPU ms/req |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        foreach (var ((endpoint, clients), list) in results)
        {
            Console.WriteLine(string.Create(Inv,
                $"| {endpoint} | {clients} | {Median(list.Select(r => (double)r.Requests)):0} | {Median(list.Select(r => r.RequestsPerSecond)):0} | " +
                $"{Median(list.Select(r => r.Latencies.PercentileMs(50))):0.00} | {Median(list.Select(r => r.Latencies.PercentileMs(99))):0.00} | " +
                $"{list.Sum(r => r.Errors)} | {string.Join(" / ", list.Select(r => r.RequestsPerSecond.ToString("0", Inv)))} | " +
                $"{Median(list.Select(r => r.ServerCpuPercent)):0} | {Median(list.Select(r => r.ServerCpuMsPerRequest)):0.00} |"));
        }
        Console.WriteLine();
        Console.WriteLine("requests = median per round; req/s, p50, p99 = medians of the rounds' values; errors = non-200 answers " +
            "and failed requests, all rounds; mailroom CPU % = of one core (2 cores = 200 %); " +
            "CPU ms/req = Mailroom's CPU time per request (medians).");
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.Where(x => !double.IsNaN(x)).Order().ToArray();
        if (v.Length == 0)
            return double.NaN;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string Git(string repo, string args)
    {
        var psi = new ProcessStartInfo("git", $"-C \"{repo}\" {args}") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("git");
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException("git " + args);
    }
}
