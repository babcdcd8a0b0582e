using System.Globalization;

namespace Mailroom.Bench;

/// <summary>A failure to report in one line (no stack trace): bad option, Mailroom not built, not healthy...</summary>
public sealed class BenchException(string message) : Exception(message);

/// <summary>
/// Options of a subcommand: <c>--name value</c>, <c>--name=value</c> or a bare <c>--flag</c>. Each command reads
/// what it knows and calls <see cref="RejectUnknown"/> so a typo fails instead of being ignored.
/// </summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public static BenchArgs Parse(IReadOnlyList<string> args)
    {
        var result = new BenchArgs();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith('-'))
                throw new ArgumentException($"unexpected argument '{a}'");
            var name = a.TrimStart('-');
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            result._values[name] = value;
        }
        return result;
    }

    public bool Flag(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    public string? String(string name)
    {
        _read.Add(name);
        if (!_values.TryGetValue(name, out var v))
            return null;
        return v ?? throw new BenchException($"--{name} needs a value");
    }

    public double Double(string name, double fallback, double min)
    {
        var s = String(name);
        if (s is null)
            return fallback;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || d < min)
            throw new BenchException($"--{name} must be a number >= {min}");
        return d;
    }

    public int Int(string name, int fallback, int min) => (int)Math.Round(Double(name, fallback, min));

    public int[] IntList(string name, int[] fallback)
    {
        var s = String(name);
        if (s is null)
            return fallback;
        var list = new List<int>();
        foreach (var part in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            list.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new BenchException($"--{name} takes positive whole numbers separated by commas"));
        return list.Count > 0 ? [.. list] : fallback;
    }

    public string[] StringList(string name, string[] fallback)
    {
        var s = String(name);
        return s is null ? fallback : s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new BenchException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}; try --help");
    }
}
