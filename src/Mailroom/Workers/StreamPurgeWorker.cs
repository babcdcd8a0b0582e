using Mailroom.Core.Queue;

namespace Mailroom.Workers;

/// <summary>Hourly, and at start: deletes archived message streams whose expected purge date has passed (spec §4.3),
/// and messages older than the retention period.</summary>
public sealed class StreamPurgeWorker(IServiceProvider services, TimeProvider clock, ILogger<StreamPurgeWorker> log)
    : PeriodicWorker(services, clock, log, Interval, runAtStart: true)
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override string FailureMessage => "Stream purge failed; will retry";

    protected override async Task RunAsync(IServiceProvider scoped, CancellationToken ct)
    {
        var purged = await scoped.GetRequiredService<MessageStreamService>().PurgeExpiredAsync(ct);
        if (purged > 0)
            Log.LogInformation("Purged {Count} archived message streams past their purge date", purged);
        var messages = await scoped.GetRequiredService<MessageRetention>().PurgeAsync(ct);
        if (messages > 0)
            Log.LogInformation("Purged {Count} messages past the retention period", messages);
    }
}
