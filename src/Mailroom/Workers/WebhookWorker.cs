using Mailroom.Core.Webhooks;

namespace Mailroom.Workers;

/// <summary>
/// Posts webhooks (role <c>delivery</c>), apart from mail delivery: its own loop, HTTP client and limits, so a slow
/// endpoint never holds back mail. Each round starts the POSTs that are due and does not wait for them; it claims
/// again when a host's POSTs finish or every half second.
/// </summary>
public sealed class WebhookWorker(WebhookDispatcher dispatcher, ILogger<WebhookWorker> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        // Claims of a previous run (SQLite) or of a silent node (PostgreSQL) are released by NodeRegistry, as for mail.
        var running = new List<Task>();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                running.AddRange(await dispatcher.StartDueAsync(ct));
                running.RemoveAll(t => t.IsCompleted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogError(e, "Webhook round failed; retrying");
            }
            // Claim again when a host's POSTs finish, or every half second for new and due rows.
            try
            {
                await dispatcher.WaitHostFreedAsync(TimeSpan.FromMilliseconds(500), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
