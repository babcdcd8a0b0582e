using System.Collections.Concurrent;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// The kill -9 round the crash tests share: clients load a real <c>mailroom serve</c>; when the test says so the process
/// is killed with SIGKILL under that load, the clients stop, and it is restarted on the same data (folder, store,
/// port); then every key a client was acknowledged for (a 200 or a 250: a promise was made) must be seen at least once
/// by the test's observer (the SMTP sink, the webhook receiver). What a key is, what acknowledges it and what sees it
/// belong to each test; the round, the kill and the at-least-once wait are written here once.
/// </summary>
public sealed class Kill9Round(MailroomProcess first, IReadOnlyList<string> args) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _acknowledged = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private MailroomProcess? _restarted;

    /// <summary>Starts <c>mailroom serve</c> with <paramref name="args"/>; a restart uses the same arguments.</summary>
    public static async Task<Kill9Round> StartAsync(IReadOnlyList<string> args) => new(await MailroomProcess.StartAsync(args), args);

    /// <summary>The process before the kill.</summary>
    public MailroomProcess First => first;

    /// <summary>How many keys were acknowledged so far.</summary>
    public int Acknowledged => _acknowledged.Count;

    public ICollection<string> AcknowledgedKeys => _acknowledged.Keys;

    /// <summary>The server answered success for <paramref name="key"/>: from now on it must be seen.</summary>
    public void Acknowledge(string key) => _acknowledged[key] = true;

    /// <summary>Starts <paramref name="count"/> clients; each runs <paramref name="client"/> (its number, the token
    /// cancelled after the kill) and returns when killed under a request, which promised nothing.</summary>
    public void Load(int count, Func<int, CancellationToken, Task> client) =>
        _clients.AddRange(Enumerable.Range(0, count).Select(c => Task.Run(() => client(c, _stop.Token))));

    /// <summary>Waits (up to 120 s) until <paramref name="killWhen"/> holds, kills the process with SIGKILL, stops the
    /// clients and waits for them. Returns what <paramref name="seen"/> counts at that point.</summary>
    public async Task<int> KillWhenAsync(Func<bool> killWhen, Func<int> seen)
    {
        await Eventually.True(() => Task.FromResult(killWhen()), timeoutSeconds: 120);
        await first.KillAsync();
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        return seen();
    }

    /// <summary>Restarts the process on the same data and waits (up to <paramref name="timeoutSeconds"/>) until every
    /// acknowledged key is a key of <paramref name="seen"/> (key → times seen). Returns that last count.</summary>
    /// <param name="seenAs">What "seen" is, for the failure message ("delivered", "posted with 200").</param>
    public async Task<Dictionary<string, int>> RestartUntilAllSeenAsync(Func<Dictionary<string, int>> seen, int timeoutSeconds, string seenAs)
    {
        _restarted = await first.RestartAsync(args);
        await Eventually.True(() => Task.FromResult(seen().Keys.Count(_acknowledged.ContainsKey) == _acknowledged.Count), timeoutSeconds,
            because: $"{_acknowledged.Count} acknowledged, {seen().Keys.Count(_acknowledged.ContainsKey)} {seenAs}");
        return seen();
    }

    /// <summary>Times each key was seen, from the <paramref name="keys"/> an observer recorded.</summary>
    public static Dictionary<string, int> Tally(IEnumerable<string> keys, IEqualityComparer<string>? comparer = null) =>
        keys.GroupBy(k => k, comparer).ToDictionary(g => g.Key, g => g.Count(), comparer);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _stop.Dispose();
        // The restarted process owns the data folder; without one (the test failed before the restart) the first
        // process is still running, or was killed and owns it still.
        await (_restarted ?? first).DisposeAsync();
    }
}
