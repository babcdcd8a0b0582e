using Mailroom.Core.Dmarc;

namespace Mailroom.Workers;

/// <summary>Hourly: queues the weekly DMARC digest of every monitored domain that has not had last week's
/// (<see cref="DmarcDigest"/>; one node sends each, by a conditional update).</summary>
public sealed class DmarcDigestWorker(IServiceProvider services, TimeProvider clock, ILogger<DmarcDigestWorker> log)
    : PeriodicWorker(services, clock, log, Interval, runAtStart: false)
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override string FailureMessage => "DMARC digest run failed; will retry";

    protected override async Task RunAsync(IServiceProvider scoped, CancellationToken ct)
    {
        var sent = await scoped.GetRequiredService<DmarcDigest>().SendDueAsync(ct);
        if (sent > 0)
            Log.LogInformation("Queued {Count} DMARC weekly digests", sent);
    }
}
