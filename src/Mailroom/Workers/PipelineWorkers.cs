using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;

namespace Mailroom.Workers;

/// <summary>Runs Preparation whenever accepted messages wait (role <c>delivery</c>).</summary>
public sealed class PreparationWorker(MessagePreparer preparer, PreparationSignal signal, DeliverySignal next, ILogger<PreparationWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var n = await preparer.RunOnceAsync(ct);
                if (n > 0)
                {
                    next.Pulse();
                    continue;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Preparation round failed; retrying");
            }
            await signal.WaitAsync(TimeSpan.FromSeconds(1), ct);
        }
    }
}

/// <summary>Runs delivery rounds whenever deliveries are due (role <c>delivery</c>).</summary>
public sealed class DeliveryWorker(DeliveryRunner runner, DeliverySignal signal, ILogger<DeliveryWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (await runner.RunOnceAsync(ct) > 0)
                    continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Delivery round failed; retrying");
            }
            await signal.WaitAsync(TimeSpan.FromSeconds(1), ct);
        }
    }
}

