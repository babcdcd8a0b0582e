namespace Mailroom.Core.Delivery;

/// <summary>
/// When a transiently failed delivery is tried again: attempt n (1-based, the attempt that just failed) waits
/// <see cref="Delays"/>[n-1], the last entry repeating, until the message is older than the maximum age; then it
/// bounces. The table is the policy: read it, don't compute it.
/// </summary>
public sealed record RetrySchedule(IReadOnlyList<TimeSpan> Delays, TimeSpan MaxAge)
{
    public static readonly RetrySchedule Default = new(
    [
        TimeSpan.FromMinutes(1),
        TimeSpan.FromMinutes(5),
        TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1),
        TimeSpan.FromHours(2),
        TimeSpan.FromHours(4),
        TimeSpan.FromHours(8),
    ], TimeSpan.FromHours(72));

    /// <summary>The next attempt's time after <paramref name="failedAttempts"/> failures, or null when the
    /// message would then be older than <see cref="MaxAge"/> (give up: bounce).</summary>
    public DateTimeOffset? Next(int failedAttempts, DateTimeOffset queuedAt, DateTimeOffset now)
    {
        var delay = Delays[Math.Clamp(failedAttempts - 1, 0, Delays.Count - 1)];
        var next = now + delay;
        return next - queuedAt > MaxAge ? null : next;
    }
}
