using Mailroom.Core.Accounts;

namespace Mailroom.Workers;

/// <summary>Hourly: deletes archived message streams whose expected purge date has passed (spec §4.3).</summary>
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
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Stream purge failed; will retry");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
