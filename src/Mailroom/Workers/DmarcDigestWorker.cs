using Mailroom.Core.Dmarc;

namespace Mailroom.Workers;

/// <summary>Hourly: queues the weekly DMARC digest of every monitored domain that has not had last week's
/// (<see cref="DmarcDigest"/>; one node sends each, by a conditional update).</summary>
public sealed class DmarcDigestWorker(IServiceProvider services, TimeProvider clock, ILogger<DmarcDigestWorker> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var sent = await scope.ServiceProvider.GetRequiredService<DmarcDigest>().SendDueAsync(stoppingToken);
                if (sent > 0)
                    log.LogInformation("Queued {Count} DMARC weekly digests", sent);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "DMARC digest run failed; will retry");
            }
        }
    }
}
