using Mailroom.Cli;
using Mailroom.Core.Storage;

namespace Mailroom.Workers;

/// <summary>
/// This node's heartbeat in <c>nodes</c> (every <see cref="NodeRegistry.HeartbeatInterval"/>), and at each beat the
/// release of the claims of nodes whose heartbeat stopped (see <see cref="NodeRegistry"/>). Runs on every node, whatever
/// its roles: any live node may hand a dead node's work over.
/// </summary>
public sealed class NodeHeartbeatWorker(IServiceProvider services, NodeRegistry registry, NodeIdentity node, MailroomSettings settings,
    Readiness readiness, TimeProvider clock, ILogger<NodeHeartbeatWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        // Hosted services start in order: the migrator has run by now (or the process stopped).
        if (!readiness.IsReady)
            return;
        log.LogInformation("Node {Node} started", node.Id);
        var roles = settings.Roles;
        try
        {
            await using var scope = services.CreateAsyncScope();
            var released = await registry.ReleasePreviousRunAsync(scope.ServiceProvider.GetRequiredService<MailroomDb>(), ct);
            if (released > 0)
                log.LogWarning("Took back {Count} deliveries claimed by this store's previous run; they are sent again", released);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Releasing the previous run's claims failed; they are taken again when their lease expires");
        }
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
                await registry.BeatAsync(db, roles, ct);
                var (released, nodes) = await registry.ReleaseDeadNodesAsync(db, ct);
                if (nodes > 0)
                    log.LogWarning("{Nodes} node(s) silent for over {Seconds} s are gone; released their {Released} delivery claims to be sent again",
                        nodes, registry.DeadAfter.TotalSeconds, released);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogWarning(e, "Node heartbeat failed; trying again");
            }
            try
            {
                await Task.Delay(registry.HeartbeatInterval, clock, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        try
        {
            await using var scope = services.CreateAsyncScope();
            await registry.LeaveAsync(scope.ServiceProvider.GetRequiredService<MailroomDb>(), ct);
        }
        catch (Exception e)
        {
            log.LogDebug(e, "Could not remove this node's row at stop; it ages out");
        }
    }
}
