namespace Mailroom.Core.Inbound;

/// <summary>
/// Postmark's schedule for posting inbound mail (spec §10.4): any answer but 200 is tried again 10 times, after 1, 5,
/// 10, 10, 10, 15, 30 minutes, 1, 2 and 6 hours (≈ 10.5 h); a 403 stops at once; then the message is Failed.
/// </summary>
public static class InboundRetrySchedule
{
    public const string RecordType = "Inbound";

    public static readonly IReadOnlyList<TimeSpan> Delays =
    [
        TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
        TimeSpan.FromHours(2), TimeSpan.FromHours(6),
    ];

    public static int RetriesRemaining(int attemptsMade) => Math.Max(0, Delays.Count - attemptsMade);

    public static TimeSpan? Next(int attemptsMade) => attemptsMade >= 1 && attemptsMade <= Delays.Count ? Delays[attemptsMade - 1] : null;

    /// <summary>Postmark: only a 200 is success; 403 means "stop trying".</summary>
    public static bool IsSuccess(int status) => status == 200;

    public static bool Stops(int status) => status == 403;
}

/// <summary>Stored inbound mail waits for <see cref="InboundProcessor"/> (a hint; the worker also polls).</summary>
public sealed class InboundSignal : Mailroom.Core.Queue.StageSignal;
