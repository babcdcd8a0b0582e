using System.Collections.Concurrent;

namespace Mailroom.Web;

/// <summary>
/// Slows password guessing: at most <see cref="PerEmail"/> failed sign-ins per email and <see cref="PerAddress"/> per
/// client IP within <see cref="Window"/>; past either, sign-in is refused (even with the right password) until the
/// window has moved on. Per email stops a distributed guess at one user; per IP stops one client spraying many users.
/// In memory, per node: a restart forgets, and several nodes each allow their own share (the hasher's cost remains).
/// </summary>
public sealed class SignInThrottle(TimeProvider clock)
{
    public const int PerEmail = 5;
    public const int PerAddress = 20;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new();

    public bool IsBlocked(string email, string ip)
    {
        var now = clock.GetUtcNow();
        return Count("e:" + email.Trim().ToLowerInvariant(), now) >= PerEmail || Count("i:" + ip, now) >= PerAddress;
    }

    public void Failed(string email, string ip)
    {
        var now = clock.GetUtcNow();
        Add("e:" + email.Trim().ToLowerInvariant(), now);
        Add("i:" + ip, now);
        if (_failures.Count > 100_000) // bound memory under a spray of made-up emails
            foreach (var key in _failures.Keys)
                if (Count(key, now) == 0)
                    _failures.TryRemove(key, out _);
    }

    public void Succeeded(string email) => _failures.TryRemove("e:" + email.Trim().ToLowerInvariant(), out _);

    private int Count(string key, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var q))
            return 0;
        lock (q)
        {
            while (q.Count > 0 && now - q.Peek() >= Window)
                q.Dequeue();
            return q.Count;
        }
    }

    private void Add(string key, DateTimeOffset now)
    {
        var q = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (q)
        {
            q.Enqueue(now);
            while (q.Count > PerAddress)
                q.Dequeue();
        }
    }
}
