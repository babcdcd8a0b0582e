using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Xunit;

namespace Mailroom.Fuzz.Tests.Harness;

/// <summary>What one target's run found and how fast it went.</summary>
public sealed record FuzzResult(string Target, long Inputs, TimeSpan Elapsed, TimeSpan InTarget, TimeSpan Slowest, IReadOnlyList<string> Findings,
    IReadOnlyList<string> Notes)
{
    public double InputsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 0.001);

    public override string ToString() =>
        $"fuzz {Target}: {Inputs} inputs in {Elapsed.TotalSeconds:F1} s ({InputsPerSecond:F0}/s; {InTarget.TotalSeconds:F1} s in the code under test), slowest {Slowest.TotalMilliseconds:F0} ms, {Findings.Count} finding(s), {Notes.Count} note(s)";
}

/// <summary>
/// Thrown by a target for something worth keeping that is not a failure: an exception the code under test caught
/// itself (its documented catch-all), which still cost the caller a result. Saved as a note; the run goes on.
/// </summary>
public sealed class FuzzNote(string kind, Exception inner) : Exception(kind + ": " + inner.Message, inner)
{
    public string Kind { get; } = kind;
}

/// <summary>
/// Runs one target over generated inputs for a bounded time. Each input runs on a worker thread under a deadline
/// (<see cref="FuzzOptions.InputTimeout"/>): an input that takes longer is a hang, saved and reported, and the run
/// stops. An exception the target does not document is a finding, saved with its stack trace; the run goes on to
/// look for different ones. The input in flight is kept in a memory-mapped journal, so even a crash that takes the
/// process down (a stack overflow) leaves it on disk: the next run turns that journal into a saved input and fails.
/// </summary>
public static class Fuzzer
{
    private const int MaxFindings = 8;
    /// <summary>An input slower than this is saved as a note (not a failure: the machine may be busy).</summary>
    private static readonly TimeSpan SlowInput = TimeSpan.FromSeconds(2);
    private const int JournalCapacity = 8 * 1024 * 1024;
    private static readonly byte[] JournalMagic = "MRFUZZ01"u8.ToArray();

    /// <param name="name">Target name: file names and the printed summary.</param>
    /// <param name="weight">Share of <see cref="FuzzOptions.TotalSeconds"/> (out of <see cref="FuzzOptions.TotalWeight"/>).</param>
    /// <param name="gen">The inputs.</param>
    /// <param name="bytes">The input as the bytes to save for reproduction.</param>
    /// <param name="target">Runs the code under test on one input and checks its properties (throws on a violated one).</param>
    /// <param name="documented">Exceptions the code under test documents for bad input: not findings.</param>
    /// <param name="inputTimeout">The deadline of one input, when the target needs more than <see cref="FuzzOptions.InputTimeout"/>.</param>
    public static FuzzResult Run<T>(string name, double weight, Gen<T> gen, Func<T, byte[]> bytes, Action<T> target,
        Func<Exception, bool>? documented = null, TimeSpan? inputTimeout = null)
    {
        var deadline = inputTimeout ?? FuzzOptions.InputTimeout;
        Directory.CreateDirectory(FuzzOptions.OutputDirectory);
        var findings = new List<string>();
        var notes = new List<string>();
        RecoverJournal(name, findings);

        var budget = FuzzOptions.Budget(weight);
        var pcg = new PCG(StreamOf(name), FuzzOptions.Seed);
        var seen = new HashSet<string>();
        using var journal = new Journal(Path.Combine(FuzzOptions.OutputDirectory, name + ".inflight"));
        var worker = new Worker(name);
        var clock = Stopwatch.StartNew();
        long inputs = 0;
        var slowest = TimeSpan.Zero;
        var inTarget = TimeSpan.Zero;
        var hung = false;
        while (clock.Elapsed < budget && !hung && findings.Count < MaxFindings)
        {
            var input = gen.Generate(pcg, null!, out _);
            var data = bytes(input);
            journal.Write(data);
            var started = clock.Elapsed;
            var outcome = worker.Run(() => target(input), deadline);
            // The parsers' regex timeouts (1 s) are wall-clock time: on a busy machine a linear pattern over a large
            // input can pass them. A pattern that is really slow (quadratic) times out every time: try twice more.
            for (var retry = 0; retry < 2 && !outcome.Hung && IsRegexTimeout(outcome.Error); retry++)
                outcome = worker.Run(() => target(input), deadline);
            var took = clock.Elapsed - started;
            inputs++;
            inTarget += took;
            if (took > slowest)
                slowest = took;
            if (took > SlowInput && !outcome.Hung && notes.Count < MaxFindings)
                notes.Add($"slow ({took.TotalMilliseconds:F0} ms): {Save(name, "slow", data, $"Took {took.TotalMilliseconds:F0} ms.")}");
            if (outcome.Hung)
            {
                var file = Save(name, "hang", data, $"No answer within {deadline.TotalSeconds} s.");
                findings.Add($"hang ({deadline.TotalSeconds} s): {file}");
                hung = true; // the worker is stuck on it: abandon it (a background thread) and stop this target
            }
            else if (outcome.Error is FuzzNote note)
            {
                var signature = note.Kind + ":" + Signature(note.InnerException!);
                if (seen.Add(signature) && notes.Count < MaxFindings)
                    notes.Add($"{signature}: {FirstLine(note.InnerException!.Message)}: {Save(name, "note-" + note.Kind, data, note.InnerException!.ToString())}");
            }
            else if (outcome.Error is { } e && documented?.Invoke(e) != true)
            {
                var signature = Signature(e);
                if (seen.Add(signature))
                {
                    var file = Save(name, e.GetType().Name, data, e.ToString());
                    findings.Add($"{e.GetType().Name}: {FirstLine(e.Message)} at {signature}: {file}");
                }
            }
        }
        clock.Stop();
        if (!hung)
            worker.Dispose();
        journal.Clear();

        var result = new FuzzResult(name, inputs, clock.Elapsed, inTarget, slowest, findings, notes);
        Report(result);
        return result;
    }

    /// <summary>Runs and asserts no findings, listing them (with the saved files) if there are any.</summary>
    public static FuzzResult Check<T>(string name, double weight, Gen<T> gen, Func<T, byte[]> bytes, Action<T> target,
        Func<Exception, bool>? documented = null, TimeSpan? inputTimeout = null)
    {
        var result = Run(name, weight, gen, bytes, target, documented, inputTimeout);
        Assert.True(result.Findings.Count == 0,
            $"{result}; seed {FuzzOptions.Seed} (MAILROOM_FUZZ_SEED):\n  " + string.Join("\n  ", result.Findings));
        Assert.True(result.Inputs > 0, $"fuzz {name}: no input ran");
        return result;
    }

    /// <summary>Prints a line per target: the xunit diagnostic stream (shown by <c>dotnet test</c>) and a summary file.</summary>
    public static void Report(FuzzResult result)
    {
        var line = result + $" [seed {FuzzOptions.Seed}]" + string.Concat(result.Notes.Select(n => "\n    note: " + n));
        TestContext.Current.SendDiagnosticMessage(line);
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        try
        {
            File.AppendAllText(Path.Combine(FuzzOptions.OutputDirectory, "summary.log"), $"{DateTimeOffset.UtcNow:u} {line}\n");
        }
        catch (IOException)
        {
            // The summary file is a convenience; the diagnostic line is the record.
        }
    }

    public static bool IsRegexTimeout(Exception? e) =>
        e is System.Text.RegularExpressions.RegexMatchTimeoutException || e?.InnerException is System.Text.RegularExpressions.RegexMatchTimeoutException;

    /// <summary>
    /// Runs <paramref name="check"/>, again (up to three times in all) if a regex timed out: for regression tests of
    /// patterns made linear, whose 1 s wall-clock timeouts a heavily loaded machine can still reach.
    /// </summary>
    public static void TolerateLoad(Action check)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                check();
                return;
            }
            catch (Exception e) when (attempt < 3 && IsRegexTimeout(e))
            {
                // Try again: a quadratic pattern fails all three times.
            }
        }
    }

    private static uint StreamOf(string name) => BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(name)));

    /// <summary>Exception type and the first frame in our code or MimeKit: one finding per distinct place.</summary>
    private static string Signature(Exception e)
    {
        var frames = new StackTrace(e, false).GetFrames();
        var frame = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Mailroom", StringComparison.Ordinal) == true
                && f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Mailroom.Fuzz", StringComparison.Ordinal) != true)
            ?? frames.FirstOrDefault();
        var method = frame?.GetMethod();
        return $"{e.GetType().Name}@{method?.DeclaringType?.Name}.{method?.Name}";
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>Saves a failing input as <c>name-kind-hash.bin</c>, with <c>.txt</c> beside it saying what happened.</summary>
    public static string Save(string name, string kind, byte[] data, string why)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(data))[..12];
        var file = Path.Combine(FuzzOptions.OutputDirectory, $"{name}-{kind}-{hash}.bin");
        File.WriteAllBytes(file, data);
        File.WriteAllText(Path.ChangeExtension(file, ".txt"), $"target {name}, seed {FuzzOptions.Seed}\n{why}\n");
        return file;
    }

    /// <summary>A journal left non-empty by an earlier run means that run died on its input: save it and report it.</summary>
    private static void RecoverJournal(string name, List<string> findings)
    {
        var path = Path.Combine(FuzzOptions.OutputDirectory, name + ".inflight");
        if (!File.Exists(path))
            return;
        try
        {
            using var file = File.OpenRead(path);
            var header = new byte[16];
            if (file.Read(header) == 16 && header.AsSpan(0, 8).SequenceEqual(JournalMagic))
            {
                var length = BitConverter.ToInt64(header, 8);
                if (length > 0 && length <= JournalCapacity)
                {
                    var data = new byte[length];
                    file.ReadExactly(data);
                    var saved = Save(name, "crash", data, "The process died while this input was running (an earlier run's journal).");
                    findings.Add($"an earlier run died on this input: {saved}");
                }
            }
        }
        catch (IOException)
        {
            // Unreadable journal: nothing to recover.
        }
        File.Delete(path);
    }

    /// <summary>The input in flight, in a memory-mapped file: the page cache keeps it if the process dies.</summary>
    private sealed class Journal : IDisposable
    {
        private readonly string _path;
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;

        public Journal(string path)
        {
            _path = path;
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Create, null, JournalCapacity + 16, MemoryMappedFileAccess.ReadWrite);
            _view = _map.CreateViewAccessor();
            _view.WriteArray(0, JournalMagic, 0, JournalMagic.Length);
        }

        public void Write(byte[] data)
        {
            var length = Math.Min(data.Length, JournalCapacity);
            _view.WriteArray(16, data, 0, length);
            _view.Write(8, (long)length);
        }

        public void Clear() => _view.Write(8, 0L);

        public void Dispose()
        {
            _view.Dispose();
            _map.Dispose();
            File.Delete(_path);
        }
    }

    private readonly record struct Outcome(bool Hung, Exception? Error);

    /// <summary>One thread that runs inputs handed to it; the caller waits with a deadline.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly SemaphoreSlim _go = new(0);
        private readonly SemaphoreSlim _done = new(0);
        private Action? _work;
        private Exception? _error;
        private bool _stop;

        public Worker(string name)
        {
            // 1.5 MB: the stack of a thread-pool thread on Linux, where the parsers run in the product.
            var thread = new Thread(Loop, 1536 * 1024) { IsBackground = true, Name = "fuzz " + name };
            thread.Start();
        }

        public Outcome Run(Action work, TimeSpan timeout)
        {
            _work = work;
            _error = null;
            _go.Release();
            return _done.Wait(timeout) ? new Outcome(false, _error) : new Outcome(true, null);
        }

        private void Loop()
        {
            while (true)
            {
                _go.Wait();
                if (_stop)
                    return;
                try
                {
                    _work!();
                }
                catch (Exception e)
                {
                    _error = e;
                }
                _done.Release();
            }
        }

        public void Dispose()
        {
            _stop = true;
            _go.Release();
        }
    }
}
