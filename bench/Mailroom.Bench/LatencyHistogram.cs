using System.Diagnostics;

namespace Mailroom.Bench;

/// <summary>
/// Exact latency recorder: every sample is kept, as <see cref="Stopwatch"/> ticks, in a preallocated array owned
/// by one worker (no locks, no allocation per request; the array doubles if a worker outruns its estimate).
/// <see cref="Merge"/> concatenates the workers' samples and sorts them once, after the measured window, so
/// percentiles are exact (nearest-rank), not bucketed.
/// </summary>
public sealed class LatencyHistogram(int capacity = 1 << 16)
{
    private long[] _ticks = new long[Math.Max(16, capacity)];
    private int _count;

    public int Count => _count;

    public void Record(long elapsedTicks)
    {
        if (_count == _ticks.Length)
            Array.Resize(ref _ticks, _ticks.Length * 2);
        _ticks[_count++] = elapsedTicks;
    }

    public static Latencies Merge(IEnumerable<LatencyHistogram> parts)
    {
        var list = parts.ToList();
        var all = new long[list.Sum(p => p._count)];
        var at = 0;
        foreach (var p in list)
        {
            Array.Copy(p._ticks, 0, all, at, p._count);
            at += p._count;
        }
        Array.Sort(all);
        return new Latencies(all);
    }
}

/// <summary>Sorted samples of one measured window.</summary>
public sealed class Latencies(long[] sortedTicks)
{
    public int Count => sortedTicks.Length;

    /// <summary>Nearest-rank percentile in milliseconds (NaN without samples).</summary>
    public double PercentileMs(double p)
    {
        if (sortedTicks.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sortedTicks.Length);
        return ToMs(sortedTicks[Math.Clamp(rank - 1, 0, sortedTicks.Length - 1)]);
    }

    public double MaxMs => sortedTicks.Length == 0 ? double.NaN : ToMs(sortedTicks[^1]);

    public double MeanMs => sortedTicks.Length == 0 ? double.NaN : ToMs((long)sortedTicks.Average(t => (double)t));

    public static double ToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
