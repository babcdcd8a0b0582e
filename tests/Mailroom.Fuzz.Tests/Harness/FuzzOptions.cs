namespace Mailroom.Fuzz.Tests.Harness;

/// <summary>
/// How long and how hard the harness runs, from the environment, so CI stays bounded and a developer can run it longer:
/// <list type="bullet">
/// <item><c>MAILROOM_FUZZ_SECONDS</c>: the whole harness's budget, shared by the targets by weight (default 60);</item>
/// <item><c>MAILROOM_FUZZ_SEED</c>: the run's seed, to repeat a run's input sequence (default: random, printed; under CI
/// (<c>CI=true</c>) the fixed <see cref="CiSeed"/>, so CI replays a prefix of a sequence that long local runs have
/// covered and a merge is never failed by a new, unrelated find);</item>
/// <item><c>MAILROOM_FUZZ_INPUT_SECONDS</c>: longest one input may take before it counts as a hang (default 30: the
/// largest inputs take a few seconds on a busy 2-core machine; a real hang never ends);</item>
/// <item><c>MAILROOM_FUZZ_OUT</c>: where failing inputs are written (default <c>TestResults/fuzz</c> under the repository).</item>
/// </list>
/// </summary>
public static class FuzzOptions
{
    /// <summary>The weights of all targets add up to this; a target's share of the budget is weight / TotalWeight.</summary>
    public const double TotalWeight = 60;

    public static double TotalSeconds { get; } = Number("MAILROOM_FUZZ_SECONDS", 60);

    public static TimeSpan InputTimeout { get; } = TimeSpan.FromSeconds(Number("MAILROOM_FUZZ_INPUT_SECONDS", 30));

    /// <summary>The seed of every run unless MAILROOM_FUZZ_SEED says otherwise: the README's test command and CI must
    /// not fail on a new, unrelated find. <c>MAILROOM_FUZZ_SEED=random</c> explores (with a longer MAILROOM_FUZZ_SECONDS).</summary>
    public const ulong CiSeed = 20261205;

    public static ulong Seed { get; } = Environment.GetEnvironmentVariable("MAILROOM_FUZZ_SEED") switch
    {
        var v when ulong.TryParse(v, out var s) => s,
        var v when string.Equals(v, "random", StringComparison.OrdinalIgnoreCase) => (ulong)Random.Shared.NextInt64(1, long.MaxValue),
        _ => CiSeed,
    };

    public static string OutputDirectory { get; } = Environment.GetEnvironmentVariable("MAILROOM_FUZZ_OUT") is { Length: > 0 } dir
        ? dir : Path.Combine(RepoRoot() ?? Path.GetTempPath(), "TestResults", "fuzz");

    /// <summary>The time a target with <paramref name="weight"/> gets.</summary>
    public static TimeSpan Budget(double weight) => TimeSpan.FromSeconds(TotalSeconds * weight / TotalWeight);

    private static double Number(string name, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    private static string? RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                return dir.FullName;
        return null;
    }
}
