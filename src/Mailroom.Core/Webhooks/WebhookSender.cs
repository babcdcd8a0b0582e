using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using DnsClient;
using Mailroom.Core.Identities;

namespace Mailroom.Core.Webhooks;

/// <summary>One POST to make: URL, body and the headers it carries. The body is UTF-8 JSON, as stored (the dispatcher signs
/// those bytes and posts them as they are).</summary>
public sealed record WebhookRequestPlan(Uri Url, byte[] BodyUtf8, IReadOnlyList<(string Name, string Value)> Headers, string? Username, string? Password);

/// <summary>What came of one POST. <see cref="Retry"/>: worth trying again; <see cref="StatusCode"/> 0: no answer.</summary>
public sealed record WebhookSendResult(bool Success, bool Retry, int StatusCode, string Error, int DurationMs);

/// <summary>
/// Posts webhook bodies. Its own <see cref="HttpClient"/>, apart from everything else: names are resolved through
/// Mailroom's resolver (<c>--dns</c>) and every address is checked where the socket connects (ConnectCallback), so
/// neither a redirect nor a DNS answer that changed since the webhook was created can reach a refused address.
/// Redirects are followed here (at most <see cref="WebhookOptions.MaxRedirects"/>, each to an http(s) URL and each
/// connection checked again); at most <see cref="WebhookOptions.MaxResponseBytes"/> of a response is read.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    // The handler called directly (HttpMessageInvoker, not HttpClient): HttpClient would add a second linked
    // cancellation source and its pending-requests bookkeeping to every POST, for a timeout this class applies itself.
    private readonly HttpMessageInvoker _http;
    private readonly WebhookOptions _options;
    private readonly DnsLookup _dns;

    public WebhookSender(WebhookOptions options, DnsLookup dns)
    {
        _options = options;
        _dns = dns;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            ConnectTimeout = options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = Math.Max(1, options.MaxConcurrencyPerHost),
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public async Task<WebhookSendResult> SendAsync(WebhookRequestPlan plan, CancellationToken ct)
    {
        var watch = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        var url = plan.Url;
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new ByteArrayContent(plan.BodyUtf8),
                };
                // Constants: set as they are, not parsed per POST.
                request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
                request.Headers.TryAddWithoutValidation("User-Agent", "Mailroom-Webhooks/1.0");
                var (user, password) = Credentials(plan, url);
                if (user is not null)
                    request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
                foreach (var (name, value) in plan.Headers)
                    request.Headers.TryAddWithoutValidation(name, value);
                // The invoker never buffers the answer (as ResponseHeadersRead): DrainAsync reads at most MaxResponseBytes.
                using var response = await _http.SendAsync(request, timeout.Token);
                var status = (int)response.StatusCode;
                await DrainAsync(response, timeout.Token);
                if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    if (redirects >= _options.MaxRedirects)
                        return new(false, false, status, $"More than {_options.MaxRedirects} redirects.", Ms(watch));
                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                        return new(false, false, status, $"Redirect to a URL that is not http(s): {next}", Ms(watch));
                    if (!_options.AllowPrivateDestinations && IPAddress.TryParse(next.Host.Trim('[', ']'), out var ip) && WebhookDestinations.IsRefused(ip))
                        return new(false, false, status, "Redirect refused: " + WebhookDestinations.Refusal(ip), Ms(watch));
                    url = next;
                    continue;
                }
                if (status is >= 200 and < 300)
                    return new(true, false, status, "", Ms(watch));
                return new(false, WebhookRetrySchedule.IsRetryable(status), status, $"HTTP {status} {response.ReasonPhrase}", Ms(watch));
            }
        }
        catch (Exception e) when (Refused(e) is { } refused)
        {
            return new(false, false, 0, refused.Message, Ms(watch));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new(false, true, 0, $"No answer within {_options.Timeout.TotalSeconds:0} s.", Ms(watch));
        }
        catch (HttpRequestException e)
        {
            return new(false, true, 0, e.InnerException is { } inner ? $"{e.Message} ({inner.Message})" : e.Message, Ms(watch));
        }
    }

    private static int Ms(long started) => (int)Math.Min(int.MaxValue, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private static RefusedDestinationException? Refused(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is RefusedDestinationException r)
                return r;
        return null;
    }

    /// <summary>Basic auth from HttpAuth, else from the URL's userinfo (<c>https://user:pass@host/</c>).</summary>
    private static (string? User, string? Password) Credentials(WebhookRequestPlan plan, Uri url)
    {
        if (!string.IsNullOrEmpty(plan.Username))
            return (plan.Username, plan.Password ?? "");
        if (url.UserInfo is { Length: > 0 } info)
        {
            var colon = info.IndexOf(':');
            return colon < 0
                ? (Uri.UnescapeDataString(info), "")
                : (Uri.UnescapeDataString(info[..colon]), Uri.UnescapeDataString(info[(colon + 1)..]));
        }
        return (null, null);
    }

    /// <summary>Reads at most MaxResponseBytes of the body: an endpoint cannot make the dispatcher hold a large answer.</summary>
    private async Task DrainAsync(HttpResponseMessage response, CancellationToken ct)
    {
        // Most endpoints answer an empty 200: nothing to read, no buffer to rent.
        if (response.Content.Headers.ContentLength == 0)
            return;
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            var total = 0;
            int n;
            while (total < _options.MaxResponseBytes && (n = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(8192, _options.MaxResponseBytes - total)), ct)) > 0)
                total += n;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await ResolveAsync(host, ct);
        if (addresses.Count == 0)
            throw new HttpRequestException($"The name {host} has no address (DNS).");
        if (!_options.AllowPrivateDestinations)
        {
            var refused = addresses.Where(WebhookDestinations.IsRefused).ToList();
            if (refused.Count > 0)
                throw new RefusedDestinationException($"{host} resolves to a refused address. " + WebhookDestinations.Refusal(refused[0]));
        }
        Exception? last = null;
        foreach (var ip in addresses)
        {
            var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(ip, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }
        throw new HttpRequestException($"Could not connect to {host}:{context.DnsEndPoint.Port}: {last?.Message}", last);
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken ct)
    {
        var result = new List<IPAddress>();
        var a = await _dns.AddressesAsync(host, ct);
        foreach (var v in a.Values)
            if (IPAddress.TryParse(v, out var ip))
                result.Add(ip);
        try
        {
            var aaaa = await _dns.Query.QueryAsync(host, QueryType.AAAA, cancellationToken: ct);
            result.AddRange(aaaa.Answers.AaaaRecords().Select(r => r.Address));
        }
        catch (DnsResponseException)
        {
            // IPv4 alone is enough when the resolver cannot answer AAAA.
        }
        if (result.Count == 0 && a.Outcome == DnsOutcome.Failed)
            throw new HttpRequestException($"DNS lookup of {host} failed: {a.Detail}");
        return result;
    }

    public void Dispose() => _http.Dispose();
}
