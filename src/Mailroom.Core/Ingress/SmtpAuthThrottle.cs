using System.Collections.Concurrent;

namespace Mailroom.Core.Ingress;

/// <summary>
/// Slows down password guessing over SMTP AUTH: after <see cref="SmtpSubmissionLimits.AuthFailuresAllowed"/>
/// failures from one client address within <see cref="SmtpSubmissionLimits.AuthFailureWindow"/>, AUTH from that
/// address is refused for <see cref="SmtpSubmissionLimits.AuthBlock"/> (454 4.7.0, RFC 4954 §6: temporary, so a
/// legitimate client retries later). State is per process and in memory: a restart forgets it, which costs an
/// attacker no more than the process's start-up time buys.
/// </summary>
public sealed class SmtpAuthThrottle(SmtpSubmissionLimits limits, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Record> _records = new(StringComparer.Ordinal);

    private sealed class Record
    {
        public readonly Queue<DateTimeOffset> Failures = new();
        public DateTimeOffset BlockedUntil;
    }

    /// <summary>True while AUTH from <paramref name="address"/> is refused.</summary>
    public bool IsBlocked(string address)
    {
        if (!_records.TryGetValue(address, out var record))
            return false;
        lock (record)
            return record.BlockedUntil > clock.GetUtcNow();
    }

    /// <summary>Counts a failed AUTH; returns true if the address is now blocked.</summary>
    public bool Failed(string address)
    {
        var now = clock.GetUtcNow();
        var record = _records.GetOrAdd(address, _ => new Record());
        bool blocked;
        lock (record)
        {
            while (record.Failures.Count > 0 && record.Failures.Peek() <= now - limits.AuthFailureWindow)
                record.Failures.Dequeue();
            record.Failures.Enqueue(now);
            if (record.Failures.Count >= limits.AuthFailuresAllowed)
            {
                record.BlockedUntil = now + limits.AuthBlock;
                record.Failures.Clear();
            }
            blocked = record.BlockedUntil > now;
        }
        if (_records.Count >= 10_000)
            Sweep(now);
        return blocked;
    }

    /// <summary>A successful AUTH forgets the address's earlier failures.</summary>
    public void Succeeded(string address) => _records.TryRemove(address, out _);

    /// <summary>Drops stale records, so addresses that failed once do not accumulate forever.</summary>
    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, record) in _records)
        {
            bool stale;
            lock (record)
                stale = record.BlockedUntil <= now && (record.Failures.Count == 0 || record.Failures.Peek() <= now - limits.AuthFailureWindow);
            if (stale)
                _records.TryRemove(key, out _);
        }
    }
}
