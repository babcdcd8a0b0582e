using System.Globalization;

namespace Mailroom.Bench;

/// <summary>
/// CPU time used by processes (user + system, from <c>/proc/PID/stat</c>, Linux): lets a bench say where a machine's
/// cores went during a window, e.g. the nodes, PostgreSQL's backends and the bench itself (sink and load).
/// </summary>
public static class CpuAccounting
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux configuration .NET runs on

    /// <summary>CPU seconds used so far by one process (its threads, not its children); 0 when it is gone.</summary>
    public static double Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state): utime is field 14, stime field 15.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    /// <summary>The pids whose command name is <paramref name="comm"/> (e.g. "postgres": the postmaster and its backends).</summary>
    public static IReadOnlyList<int> ByName(string comm)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid))
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() == comm)
                        pids.Add(pid);
                }
                catch (IOException)
                {
                }
        return pids;
    }

    /// <summary>CPU seconds of a set of pids: backends that exit during the window are missed, so call it on live ones.</summary>
    public static Dictionary<int, double> Snapshot(IEnumerable<int> pids) => pids.Distinct().ToDictionary(p => p, Seconds);

    /// <summary>CPU seconds used between two snapshots by the pids of the second (a pid new in it counts from 0).</summary>
    public static double Between(Dictionary<int, double> before, Dictionary<int, double> after) =>
        after.Sum(kv => kv.Value - before.GetValueOrDefault(kv.Key));
}
