using Mailroom.Core.Webhooks;

namespace Mailroom.Workers;

/// <summary>
/// Posts webhooks (role <c>delivery</c>), apart from mail delivery: its own loop, HTTP client and limits, so a slow
/// endpoint never holds back mail. The loop (<see cref="WebhookDispatcher.RunAsync"/>) starts the POSTs that are due
/// and does not wait for them; claims of a previous run (SQLite) or of a silent node (PostgreSQL) are released by
/// NodeRegistry, as for mail.
/// </summary>
public sealed class WebhookWorker(WebhookDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken ct) => dispatcher.RunAsync(ct);
}
