using Mailroom.Cli;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Mailroom.Operations;

/// <summary>
/// OpenTelemetry for the process: the <c>Mailroom</c> meter (<see cref="MailroomMetrics"/>) and ASP.NET Core's own
/// meters (HTTP request durations, Kestrel connections) exported for Prometheus at <c>/metrics</c> when
/// <c>--metrics</c> is <c>on</c> (the HTTP port) or <c>IP:PORT</c> (a port that serves nothing else); traces of the
/// <c>Mailroom</c> activity source exported over OTLP only when <c>--otlp-endpoint</c> is set.
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>The metrics port when metrics have one of their own, else null.</summary>
    public static System.Net.IPEndPoint? MetricsEndpoint(MailroomSettings settings) =>
        settings.Metrics is not ("off" or "on") && System.Net.IPEndPoint.TryParse(settings.Metrics, out var ep) ? ep : null;

    public static void AddMailroomTelemetry(this WebApplicationBuilder builder, MailroomSettings settings)
    {
        var metrics = settings.Metrics != "off";
        if (!metrics && settings.OtlpEndpoint is null)
            return;
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("mailroom", serviceInstanceId: Environment.MachineName));
        if (metrics)
        {
            builder.Services.AddSingleton<QueueFiguresReader>();
            otel.WithMetrics(m => m
                .AddMeter(MailroomMetrics.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddPrometheusExporter());
            if (MetricsEndpoint(settings) is { } ep)
                builder.WebHost.UseUrls(settings.Http, $"http://{ep}");
        }
        if (settings.OtlpEndpoint is { } endpoint)
            otel.WithTracing(t => t
                .AddSource(MailroomMetrics.Name)
                .AddOtlpExporter(o => o.Endpoint = new Uri(endpoint)));
    }

    public static void MapMailroomMetrics(this WebApplication app, MailroomSettings settings)
    {
        if (settings.Metrics == "off")
            return;
        // The queue gauges read this store (a process has one store; the last app built wins in a test run).
        var reader = app.Services.GetRequiredService<QueueFiguresReader>();
        MailroomMetrics.QueueSource = reader.Read;
        if (MetricsEndpoint(settings) is { } ep)
        {
            // The metrics port serves /metrics and nothing else; the API's port does not serve /metrics.
            app.Use(async (http, next) =>
            {
                var onMetricsPort = http.Connection.LocalPort == ep.Port;
                if (onMetricsPort != http.Request.Path.Equals(MetricsPath, StringComparison.OrdinalIgnoreCase))
                {
                    http.Response.StatusCode = 404;
                    return;
                }
                await next(http);
            });
        }
        app.MapPrometheusScrapingEndpoint(MetricsPath).ExcludeFromDescription();
    }
}

/// <summary>Reads the queue's figures for the gauges, at most once every few seconds (a scrape must not load the store).</summary>
public sealed class QueueFiguresReader(IServiceScopeFactory scopes, TimeProvider clock, ILogger<QueueFiguresReader> log)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);
    private readonly Lock _lock = new();
    private QueueFigures _last = new(0, 0, TimeSpan.Zero);
    private long _readAt = long.MinValue;

    public QueueFigures Read()
    {
        lock (_lock)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (_readAt != long.MinValue && System.Diagnostics.Stopwatch.GetElapsedTime(_readAt, now) < CacheFor)
                return _last;
            try
            {
                using var scope = scopes.CreateScope();
                var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
                var pending = db.Deliveries.Where(d => d.State == DeliveryState.Pending);
                var depth = pending.LongCount();
                var oldest = depth == 0 ? (long?)null : pending.Min(d => (long?)d.CreatedAt);
                var unprepared = db.OutboundMessages.LongCount(m => m.Stage == MessageStage.Accepted);
                var age = oldest is { } created ? clock.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(created) : TimeSpan.Zero;
                // The webhook backlog: an endpoint that is down for hours shows here before customers ask.
                var hooks = db.WebhookDeliveries.Where(d => d.State == Mailroom.Core.Webhooks.WebhookDeliveryState.Pending);
                var hookDepth = hooks.LongCount();
                var hookOldest = hookDepth == 0 ? (long?)null : hooks.Min(d => (long?)d.CreatedAt);
                var hookAge = hookOldest is { } written ? clock.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(written) : TimeSpan.Zero;
                _last = new QueueFigures(depth, unprepared, age < TimeSpan.Zero ? TimeSpan.Zero : age, hookDepth,
                    hookAge < TimeSpan.Zero ? TimeSpan.Zero : hookAge);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogWarning(e, "Queue figures for the metrics could not be read");
            }
            _readAt = now;
            return _last;
        }
    }
}
