using Mailroom.Core.Inbound;

namespace Mailroom.Workers;

/// <summary>
/// Processes inbound mail the MX listener stored (role <c>mx</c>): woken by the listener after each commit, and every
/// second for rows another node stored or a stopped process left, so nothing stored is left unprocessed.
/// </summary>
public sealed class InboundWorker(IServiceScopeFactory scopes, InboundSignal signal, ILogger<InboundWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var done = 0;
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                done = await scope.ServiceProvider.GetRequiredService<InboundProcessor>().ProcessPendingAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Inbound round failed (the database may not be migrated yet); retrying");
            }
            if (done > 0)
                continue;
            try
            {
                await signal.WaitAsync(TimeSpan.FromSeconds(1), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
