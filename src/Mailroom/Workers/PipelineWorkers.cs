using Microsoft.EntityFrameworkCore;
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
public sealed class DeliveryWorker(DeliveryRunner runner, DeliverySignal signal, ILogger<DeliveryWorker> log,
    IServiceScopeFactory scopes, DeliveryOptions options) : BackgroundService
{
    /// <summary>
    /// Graceful stop (SIGTERM): the round under way is cancelled (its SMTP sessions end with the token) and this
    /// node's claims on deliveries whose outcome was not recorded are released at once, so another node (or this one
    /// restarted) takes them without waiting for the lease to run out. A delivery that did reach the recipient before
    /// its outcome was recorded is sent again: at least once.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Mailroom.Core.Storage.MailroomDb>();
            var owner = options.NodeId; // this process's identity is the claim owner (NodeIdentity)
            var released = await db.Deliveries
                .Where(d => d.State == DeliveryState.Pending && d.LeaseOwner == owner)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), CancellationToken.None);
            if (released > 0)
                log.LogInformation("Stopping: released {Count} claimed deliveries", released);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.LogWarning(e, "Stopping: claimed deliveries could not be released; they are taken again when their lease runs out");
        }
    }

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

