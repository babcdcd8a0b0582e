using Mailroom.Core.Queue;
using Mailroom.Core.Tracking;
using Microsoft.Extensions.Hosting;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>
/// Open and click tracking. Unauthenticated and cheap, for recipients' mail clients: <c>GET /t/o/{token}</c> (the
/// image) and <c>GET /t/c/{token}</c> (a link). And the Messages API's opens and clicks lists (spec §8.1, server token).
/// </summary>
public static class TrackingApi
{
    /// <summary>The smallest transparent GIF: 1×1, one transparent colour (GIF89a, 42 bytes).</summary>
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    public static void MapTrackingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/t/o/{token}", Open);
        app.MapGet("/t/c/{token}", Click);
        var g = app.MapGroup("/messages/outbound").RequireServerToken();
        g.MapGet("/opens", Opens);
        g.MapGet("/clicks", Clicks);
        g.MapGet("/opens/{messageId}", MessageOpens);
        g.MapGet("/clicks/{messageId}", MessageClicks);
    }

    /// <summary>Always the image: a mail client shows a broken image for an error, and says nothing useful to anyone.
    /// A bad token or a failure to record is logged; nothing is recorded. The open is queued, not awaited
    /// (<see cref="EngagementRecorder"/>), so the image is answered at once; with read time measured
    /// (<see cref="TrackingOptions.ReadTime"/>) a reader's image is streamed instead and the open queued when it ends.</summary>
    private static async Task Open(string token, HttpContext http, EngagementRecorder recorder, TrackingOptions options, TimeProvider clock,
        IHostApplicationLifetime lifetime, ILoggerFactory logs)
    {
        VerifiedOpen? open = null;
        try
        {
            open = await recorder.VerifyOpenAsync(Request(token, http), http.RequestAborted);
            if (open is not null && options.ReadTime && Readable(open.Request.UserAgent))
            {
                await StreamAsync(http, recorder, open, clock, lifetime.ApplicationStopping);
                return;
            }
            if (open is not null)
                await recorder.QueueOpenAsync(open);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logs.CreateLogger(typeof(TrackingApi)).LogError(e, "Recording an open failed; the image is served anyway");
        }
        if (http.Response.HasStarted)
            return;
        Headers(http);
        http.Response.ContentLength = Pixel.Length;
        await http.Response.Body.WriteAsync(Pixel, http.RequestAborted);
    }

    private static void Headers(HttpContext http)
    {
        http.Response.StatusCode = 200;
        http.Response.ContentType = "image/gif";
        // Every fetch must reach us (each is an open): no cache may answer for us.
        http.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate, private";
        http.Response.Headers.Pragma = "no-cache";
    }

    /// <summary>A person's mail client can show how long it kept the message; an image proxy or a privacy prefetch
    /// fetches once and keeps nothing open, so it gets the plain image.</summary>
    private static bool Readable(string? userAgent)
    {
        var agent = Mailroom.Mail.Tracking.UserAgentClassifier.Default.Classify(userAgent);
        return !agent.Machine && !agent.Proxy;
    }

    /// <summary>The read-time image (<see cref="Mailroom.Mail.Tracking.ReadTime"/>): a GIF frame a second until the
    /// client closes the connection or <see cref="Mailroom.Mail.Tracking.ReadTime.MaxSeconds"/> pass; then the open is
    /// queued with those seconds. A stopping node ends the image early and records what it measured.</summary>
    private static async Task StreamAsync(HttpContext http, EngagementRecorder recorder, VerifiedOpen open, TimeProvider clock, CancellationToken stopping)
    {
        Headers(http);
        var started = clock.GetUtcNow();
        var closed = http.RequestAborted;
        try
        {
            await http.Response.Body.WriteAsync(Mailroom.Mail.Tracking.ReadTime.Head, closed);
            await http.Response.Body.WriteAsync(Mailroom.Mail.Tracking.ReadTime.Frame, closed);
            await http.Response.Body.FlushAsync(closed);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(closed, stopping);
            for (var s = 1; s <= Mailroom.Mail.Tracking.ReadTime.MaxSeconds && !either.IsCancellationRequested; s++)
            {
                await Task.Delay(started + TimeSpan.FromSeconds(s) - clock.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero, clock, either.Token);
                await http.Response.Body.WriteAsync(Mailroom.Mail.Tracking.ReadTime.Frame, closed);
                await http.Response.Body.FlushAsync(closed);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client closed the message (or the node stops): that is the measurement.
        }
        var seconds = Mailroom.Mail.Tracking.ReadTime.Seconds(clock.GetUtcNow() - started);
        await recorder.QueueOpenAsync(open, seconds);
        if (!closed.IsCancellationRequested)
        {
            try
            {
                await http.Response.Body.WriteAsync(Mailroom.Mail.Tracking.ReadTime.Trailer, closed);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>302 to the link as it was in the message; a token Mailroom did not sign (or for a link the message does
    /// not have) gets a 404 page and no redirect, so the endpoint is never an open redirect.</summary>
    private static async Task<IResult> Click(string token, HttpContext http, EngagementRecorder recorder)
    {
        var url = await recorder.RecordClickAsync(Request(token, http), http.RequestAborted);
        http.Response.Headers.CacheControl = "no-store";
        return url is null
            ? Results.Content("<!doctype html><title>Link not found</title><h1>Link not found</h1><p>This link is not valid.</p>", "text/html", statusCode: 404)
            : Results.Redirect(url, permanent: false);
    }

    private static EngagementRequest Request(string token, HttpContext http) =>
        new(token, http.Request.Headers.UserAgent.ToString() is { Length: > 0 } ua ? ua : null, http.Connection.RemoteIpAddress);

    private static EngagementSearch Search(HttpContext http) => new(
        http.QueryPaging(700, maxTotal: 10000),
        http.QueryString("recipient"), http.QueryString("tag"), http.QueryString("client_name"), http.QueryString("client_company"),
        http.QueryString("client_family"), http.QueryString("os_name"), http.QueryString("os_family"), http.QueryString("os_company"),
        http.QueryString("platform"), http.QueryString("country"), http.QueryString("region"), http.QueryString("city"),
        http.QueryString("messagestream"));

    private static async Task<IResult> Opens(HttpContext http, EngagementLog log) =>
        Ok(await log.OpensAsync(http.Server().ServerId, Search(http), http.RequestAborted));

    private static async Task<IResult> Clicks(HttpContext http, EngagementLog log) =>
        Ok(await log.ClicksAsync(http.Server().ServerId, Search(http), http.RequestAborted));

    private static async Task<IResult> MessageOpens(string messageId, HttpContext http, EngagementLog log) =>
        Ok(await log.MessageOpensAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.QueryPaging(700, maxTotal: 10000), http.RequestAborted));

    private static async Task<IResult> MessageClicks(string messageId, HttpContext http, EngagementLog log) =>
        Ok(await log.MessageClicksAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.QueryPaging(700, maxTotal: 10000), http.RequestAborted));
}
