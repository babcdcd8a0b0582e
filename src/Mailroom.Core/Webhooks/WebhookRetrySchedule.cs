namespace Mailroom.Core.Webhooks;

/// <summary>
/// When a failed POST is tried again: Postmark's schedule for outbound events (spec §10.4): 6 retries, after 1, 5,
/// 10, 10, 10 and 15 minutes (≈ 51 minutes in all). A 2xx ends it; 5xx, 408, 429, a timeout or a connection error
/// schedules the next row; other 4xx, a refused destination or too many redirects drop the event at once.
/// </summary>
public static class WebhookRetrySchedule
{
    public static readonly IReadOnlyList<TimeSpan> Delays =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15),
    ];

    /// <summary>Retries still to come when attempt number <paramref name="attemptsMade"/> + 1 is made (the header
    /// <c>X-PM-Retries-Remaining</c>): 6 on the first POST, 0 on the last.</summary>
    public static int RetriesRemaining(int attemptsMade) => Math.Max(0, Delays.Count - attemptsMade);

    /// <summary>Delay before the next attempt after <paramref name="attemptsMade"/> attempts failed; null when none is left.</summary>
    public static TimeSpan? Next(int attemptsMade) => attemptsMade >= 1 && attemptsMade <= Delays.Count ? Delays[attemptsMade - 1] : null;

    /// <summary>Whether an HTTP status is worth trying again.</summary>
    public static bool IsRetryable(int status) => status is >= 500 or 408 or 429;
}
