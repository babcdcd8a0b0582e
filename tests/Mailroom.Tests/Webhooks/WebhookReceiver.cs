using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mailroom.Tests.Webhooks;

/// <summary>One POST as the receiver saw it.</summary>
public sealed record ReceivedWebhook(string Path, string Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A real HTTP endpoint on loopback (Kestrel on 127.0.0.1, a free port) that records every request and answers with
/// the status <see cref="Respond"/> gives (by path and count so far), so tests script 500-then-200, 4xx, redirects.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();
    public Func<string, int, (int Status, string? Location)> Respond { get; set; } = (_, _) => (200, null);
    /// <summary>Awaited (by path) after a request is recorded and before it is answered: a test holds an endpoint's
    /// requests open until it completes the task (a slow endpoint).</summary>
    public Func<string, Task>? Hold { get; set; }
    public string BaseUrl { get; }

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url;
    }

    /// <param name="listen">The loopback address to listen on: 127.0.0.2, 127.0.0.3... are other hosts to the
    /// dispatcher (its lanes are per host name or address) without a DNS name to resolve.</param>
    public static async Task<WebhookReceiver> StartAsync(string listen = "127.0.0.1")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{listen}:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? self = null;
        var counts = new ConcurrentDictionary<string, int>();
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            var path = http.Request.Path.Value ?? "/";
            var n = counts.AddOrUpdate(path, 1, (_, c) => c + 1);
            self!.Received.Enqueue(new ReceivedWebhook(path, body,
                http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            if (self.Hold is { } hold)
                await hold(path);
            var (status, location) = self.Respond(path, n);
            http.Response.StatusCode = status;
            if (location is not null)
                http.Response.Headers.Location = location;
            await http.Response.WriteAsync("ok");
        });
        await app.StartAsync();
        var address = app.Urls.First();
        self = new WebhookReceiver(app, address.TrimEnd('/'));
        return self;
    }

    public List<ReceivedWebhook> At(string path) => Received.Where(r => r.Path == path).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
