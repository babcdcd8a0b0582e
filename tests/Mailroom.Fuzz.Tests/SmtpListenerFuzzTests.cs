using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Mailroom.Api;
using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Ingress;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Smtp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// The SMTP submission listener through its socket (so the harness does not depend on the listener's internal types):
/// a Mailroom in process with the smtp role on a loopback port, fed random and mutated command streams
/// (<see cref="SmtpSessions"/>) over raw TCP. For each stream the client writes everything, half-closes, and reads:
/// the listener must close the connection within <see cref="CloseWithin"/> (30 s) of the client's end of input (it answers
/// or closes, never hangs), and every line it writes must be an SMTP reply (RFC 5321 §4.2). Every
/// <see cref="NormalSessionEvery"/> streams, and at the end, a normal session (AUTH, MAIL, RCPT, DATA) must still be
/// accepted and queued. Budget weight (out of 60): 18.
/// </summary>
public sealed class SmtpListenerFuzzTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(30);
    private const int NormalSessionEvery = 50;
    private static readonly Regex ReplyLine = new(@"^[2-5][0-9][0-9]([ -].*)?$", RegexOptions.CultureInvariant);

    [Fact]
    public async Task ListenerAnswersOrClosesEveryStreamAndStillAcceptsNormalSessions()
    {
        var data = Path.Combine(Path.GetTempPath(), "mailroom-fuzz-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var settings = new MailroomSettings
        {
            DataDirectory = data,
            PublicUrl = "http://mailroom.test",
            Roles = "api,smtp",
            Smtp = "127.0.0.1:0",
            // AUTH before STARTTLS, so the streams reach MAIL, RCPT and DATA without a TLS client.
            SmtpAllowPlainAuth = true,
            Dns = "127.0.0.1:9",
            PlatformDomain = "mailroom.test",
            DeliveryPort = 9,
        };
        var app = MailroomApp.Build(settings, b =>
        {
            b.WebHost.UseTestServer();
            // The streams fail AUTH often; the throttle (tested elsewhere) would then refuse the normal sessions.
            b.Services.Replace(ServiceDescriptor.Singleton(new SmtpSubmissionLimits { AuthFailuresAllowed = int.MaxValue }));
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var port = app.Services.GetRequiredService<SmtpSubmissionService>().LocalEndPoint!.Port;
            var token = await ServerTokenAsync(app);
            await NormalSessionAsync(port, token);

            var sessions = 0;
            Fuzzer.Check("smtp-listener", 18, SmtpSessions.Streams(token), s => s, stream =>
            {
                SessionAsync(port, stream).GetAwaiter().GetResult();
                if (++sessions % NormalSessionEvery == 0)
                    NormalSessionAsync(port, token).GetAwaiter().GetResult();
            }, inputTimeout: CloseWithin + TimeSpan.FromSeconds(15));

            await NormalSessionAsync(port, token);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>An account and a server through the API, as a customer would; the server's token.</summary>
    private static async Task<string> ServerTokenAsync(WebApplication app)
    {
        AccountCreated account;
        await using (var scope = app.Services.CreateAsyncScope())
            account = await scope.ServiceProvider.GetRequiredService<AccountService>().CreateAsync("Fuzz-" + Guid.NewGuid().ToString("N")[..6], "ops@fuzz.test");
        var client = app.GetTestClient();
        client.DefaultRequestHeaders.Add(ApiConventions.AccountTokenHeader, account.AccountToken);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var res = await client.PostAsJsonAsync("/servers", new { Name = "Fuzz", DeliveryType = "Live" });
        res.EnsureSuccessStatusCode();
        var server = await res.Content.ReadFromJsonAsync<ServerResponse>();
        return server!.ApiTokens[0];
    }

    /// <summary>One fuzz stream: written whole, then half-closed; the listener must close within <see cref="CloseWithin"/>.</summary>
    private static async Task SessionAsync(int port, byte[] stream)
    {
        using var tcp = new TcpClient();
        using var limit = new CancellationTokenSource(CloseWithin);
        await tcp.ConnectAsync(IPAddress.Loopback, port, limit.Token);
        var net = tcp.GetStream();
        var reading = ReadToEndAsync(net, limit.Token);
        try
        {
            await net.WriteAsync(stream, limit.Token);
            tcp.Client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The listener closed first (a line too long, too many errors): allowed.
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The listener stopped reading and did not close within {CloseWithin.TotalSeconds} s.");
        }
        byte[] received;
        try
        {
            received = await reading;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The listener did not close the connection within {CloseWithin.TotalSeconds} s of the client's end of input.");
        }
        CheckReplies(received);
    }

    private static async Task<byte[]> ReadToEndAsync(NetworkStream net, CancellationToken ct)
    {
        var all = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await net.ReadAsync(buffer, ct)) > 0)
                all.Write(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // Reset by the listener: closed.
        }
        return all.ToArray();
    }

    /// <summary>The greeting first, then only reply lines (a 2xx–5xx code, then a space, a hyphen or nothing).</summary>
    private static void CheckReplies(byte[] received)
    {
        var text = Encoding.UTF8.GetString(received);
        var lines = text.Split("\r\n");
        // The last piece is what followed the last CRLF: empty, or a line cut short by a reset.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            if (!ReplyLine.IsMatch(lines[i]))
                throw new InvalidDataException($"Not an SMTP reply line: '{lines[i]}'");
        }
        if (lines.Length > 1 && !lines[0].StartsWith("220 ", StringComparison.Ordinal) && !lines[0].StartsWith("421 ", StringComparison.Ordinal))
            throw new InvalidDataException($"The first line is not a greeting: '{lines[0]}'");
    }

    /// <summary>EHLO, AUTH PLAIN, MAIL, RCPT, DATA, the message, QUIT: each reply as a well-behaved client expects it.</summary>
    private static async Task NormalSessionAsync(int port, string token)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, limit.Token);
        var net = tcp.GetStream();
        using var reader = new StreamReader(net, Encoding.ASCII);
        async Task<int> Reply()
        {
            while (true)
            {
                var line = await reader.ReadLineAsync(limit.Token) ?? throw new IOException("The listener closed a normal session.");
                if (line.Length < 4 || line[3] == ' ')
                    return int.Parse(line[..3]);
            }
        }
        async Task Send(string line, int expected)
        {
            await net.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), limit.Token);
            var code = await Reply();
            if (code != expected)
                throw new InvalidOperationException($"A normal session got {code} to '{(line.Length > 40 ? line[..40] : line)}', not {expected}.");
        }
        if (await Reply() != 220)
            throw new InvalidOperationException("A normal session got no greeting.");
        await Send("EHLO client.test", 250);
        await Send("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{token}\0{token}")), 235);
        await Send("MAIL FROM:<bounces@app.example>", 250);
        await Send("RCPT TO:<jo@example.net>", 250);
        await Send("DATA", 354);
        await Send("From: Shop <shop@mailroom.test>\r\nTo: jo@example.net\r\nSubject: After the fuzz\r\n\r\nStill here.\r\n.", 250);
        await Send("QUIT", 221);
    }
}
