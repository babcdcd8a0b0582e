namespace Mailroom.Workers;

/// <summary>
/// A job run on a timer of the injected clock (so tests move time instead of waiting), each run in its own DI scope.
/// A failed run is logged and the next tick tries again: the jobs work from rows, so a missed run loses nothing.
/// </summary>
public abstract class PeriodicWorker(IServiceProvider services, TimeProvider clock, ILogger log, TimeSpan interval, bool runAtStart)
    : BackgroundService
{
    protected ILogger Log { get; } = log;

    /// <summary>One run, with services from its own scope.</summary>
    protected abstract Task RunAsync(IServiceProvider scoped, CancellationToken ct);

    /// <summary>What the warning logged for a failed run says.</summary>
    protected abstract string FailureMessage { get; }

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, clock);
        if (runAtStart)
            await RunOnceAsync(stoppingToken);
        while (await timer.WaitForNextTickAsync(stoppingToken))
            await RunOnceAsync(stoppingToken);
    }

    private async Task RunOnceAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = services.CreateAsyncScope();
            await RunAsync(scope.ServiceProvider, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
#pragma warning disable CA2254 // each worker's own fixed text
            Log.LogWarning(e, FailureMessage);
#pragma warning restore CA2254
        }
    }
}
