using Mailroom.Core.Accounts;
using Mailroom.Core.Queue;

namespace Mailroom.Workers;

/// <summary>Hourly: deletes archived message streams whose expected purge date has passed (spec §4.3), and
/// messages older than the retention period.</summary>
public sealed class StreamPurgeWorker(IServiceProvider services, TimeProvider clock, ILogger<StreamPurgeWorker> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var purged = await scope.ServiceProvider.GetRequiredService<MessageStreamService>().PurgeExpiredAsync(stoppingToken);
                if (purged > 0)
                    log.LogInformation("Purged {Count} archived message streams past their purge date", purged);
                var messages = await scope.ServiceProvider.GetRequiredService<MessageRetention>().PurgeAsync(stoppingToken);
                if (messages > 0)
                    log.LogInformation("Purged {Count} messages past the retention period", messages);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Stream purge failed; will retry");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
