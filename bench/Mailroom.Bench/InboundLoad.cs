using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Webhooks;
using MailKit.Net.Smtp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Mailroom.Bench;

/// <summary>
/// Inbound throughput: messages/s from MailKit sessions to the MX listener until a loopback receiver has every
/// payload (store before 250, process with SPF/DKIM/DMARC lookups and parsing, outbox, POST), beside the same
/// machine's SMTP submission figure (MailKit with AUTH to the submission port, accepted and durable), interleaved
/// round by round in one in-process Mailroom (roles api, mx, smtp; the webhook dispatcher is run here the way its
/// worker runs it, so submitted mail is not delivered during the run). DNS: a loopback responder that answers every
/// query NXDOMAIN at once, so the checks' lookups cost Mailroom's work, not a network's.
/// </summary>
public static class InboundLoad
{
    public const string Help = """
        Inbound: SMTP -> MX listener -> processing -> POST to a loopback receiver, vs SMTP submission in the same run.
          --messages N     messages per measurement (default 2000)
          --connections N  MailKit sessions on each side (default 4)
          --body-kb K      text body size in KB (default 5)
          --rounds N       interleaved rounds; medians are printed (default 3)
        """;

    public static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        var messages = args.Int("messages", 2000, 10);
        var connections = args.Int("connections", 4, 1);
        var bodyKb = args.Double("body-kb", 5, 0.01);
        var rounds = args.Int("rounds", 3, 1);
        args.RejectUnknown();
        var body = new string('x', (int)(bodyKb * 1024)).Chunk(76).Select(c => new string(c)).Aggregate(new StringBuilder(), (sb, l) => sb.Append(l).Append('\n')).ToString();

        var received = 0;
        var rb = WebApplication.CreateSlimBuilder();
        rb.WebHost.UseUrls("http://127.0.0.1:0");
        rb.Logging.ClearProviders();
        await using var receiver = rb.Build();
        receiver.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            await reader.ReadToEndAsync();
            Interlocked.Increment(ref received);
            http.Response.StatusCode = 200;
        });
        await receiver.StartAsync(ct);
        var receiverUrl = receiver.Urls.First();

        using var dns = new NxDomainResponder();
        var mxPort = FreePort();
        var smtpPort = FreePort();
        var data = Path.Combine(Path.GetTempPath(), $"mailroom-bench-inbound-{Environment.ProcessId}");
        Directory.CreateDirectory(data);
        var settings = MailroomSettings.Resolve(new Dictionary<string, string?>
        {
            ["Data"] = data, ["Http"] = "http://127.0.0.1:0", ["Roles"] = "api,mx,smtp", ["AllowPrivateWebhooks"] = "true",
            ["Mx"] = $"127.0.0.1:{mxPort}", ["Smtp"] = $"127.0.0.1:{smtpPort}", ["PlatformDomain"] = "bench.test",
            ["InboundHost"] = "inbound.bench.test", ["SmtpAllowPlainAuth"] = "true", ["Dns"] = $"127.0.0.1:{dns.Port}",
        }, null, _ => null);
        await using var app = MailroomApp.Build(settings, b => b.Logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync(ct);
        try
        {
            var baseUrl = app.Urls.First();
            AccountCreated account;
            await using (var scope = app.Services.CreateAsyncScope())
                account = await scope.ServiceProvider.GetRequiredService<AccountService>().CreateAsync("Bench", "bench@example.test", ct);
            using var admin = new HttpClient { BaseAddress = new Uri(baseUrl) };
            admin.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
            var server = await (await admin.PostAsJsonAsync("/servers", new { Name = "Bench", InboundHookUrl = receiverUrl + "/inbound" }, ct))
                .Content.ReadFromJsonAsync<JsonElement>(ct);
            var token = server.GetProperty("ApiTokens")[0].GetString()!;
            var inboundAddress = server.GetProperty("InboundAddress").GetString()!;
            var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{messages} messages a measurement, {connections} MailKit sessions, {bodyKb:0.#} KB bodies, {rounds} rounds, SQLite, {Environment.ProcessorCount} cores"));

            // Posting runs the way WebhookWorker runs it, for the whole run.
            using var stopPosting = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var posting = Task.Run(async () =>
            {
                var running = new List<Task>();
                while (!stopPosting.IsCancellationRequested)
                {
                    running.AddRange(await dispatcher.StartDueAsync(stopPosting.Token));
                    running.RemoveAll(t => t.IsCompleted);
                    await dispatcher.WaitHostFreedAsync(TimeSpan.FromMilliseconds(500), stopPosting.Token);
                }
            }, CancellationToken.None);

            // Warm-up (JIT, connections, caches), not measured.
            await SendAsync(smtpPort, connections, Math.Min(500, messages), token, "app@bench.test", "jo@example.net", body, ct);
            await InboundRoundAsync(Math.Min(500, messages));

            var inbound = new List<double>();
            var submission = new List<double>();
            for (var r = 0; r < rounds; r++)
            {
                var watch = Stopwatch.StartNew();
                await SendAsync(smtpPort, connections, messages, token, "app@bench.test", "jo@example.net", body, ct);
                submission.Add(messages / watch.Elapsed.TotalSeconds);
                inbound.Add(await InboundRoundAsync(messages));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {r + 1}: inbound SMTP -> receiver {inbound[^1],7:0} msgs/s   SMTP submission (accepted) {submission[^1],7:0} msgs/s   ratio {inbound[^1] / submission[^1]:0.00}"));
            }
            await stopPosting.CancelAsync();
            try { await posting; } catch (OperationCanceledException) { }
            double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: inbound {Median(inbound):0} msgs/s end to end, SMTP submission {Median(submission):0} msgs/s accepted, ratio {Median(inbound) / Median(submission):0.00}"));
            return 0;

            async Task<double> InboundRoundAsync(int n)
            {
                Volatile.Write(ref received, 0);
                var watch = Stopwatch.StartNew();
                await SendAsync(mxPort, connections, n, null, "sender@remote.example", inboundAddress, body, ct);
                var deadline = Stopwatch.StartNew();
                while (Volatile.Read(ref received) < n)
                {
                    if (deadline.Elapsed > TimeSpan.FromMinutes(5))
                        throw new BenchException($"the receiver got {received} of {n} inbound payloads within 5 minutes");
                    await Task.Delay(5, ct);
                }
                return n / watch.Elapsed.TotalSeconds;
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task SendAsync(int port, int connections, int messages, string? token, string from, string to, string body, CancellationToken ct)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            using var client = new SmtpClient();
            // TCP_NODELAY on the client too: a pipelining client otherwise waits on Nagle + delayed ACK (~44 ms a message).
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(IPAddress.Loopback, port, ct);
            await client.ConnectAsync(socket, "127.0.0.1", port, MailKit.Security.SecureSocketOptions.None, ct);
            if (token is not null)
                await client.AuthenticateAsync(token, token, ct);
            while (Interlocked.Increment(ref next) < messages)
            {
                var m = new MimeMessage { Subject = "Bench message" };
                m.From.Add(MailboxAddress.Parse(from));
                m.To.Add(MailboxAddress.Parse(to));
                m.Body = new TextPart("plain") { Text = body };
                await client.SendAsync(m, ct);
            }
            await client.DisconnectAsync(true, ct);
        }, ct)));
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Answers every UDP DNS query with NXDOMAIN (RFC 1035 §4.1.1: RCODE 3), echoing the question.</summary>
    private sealed class NxDomainResponder : IDisposable
    {
        private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly CancellationTokenSource _stop = new();

        public int Port => ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;

        public NxDomainResponder() => _ = Task.Run(LoopAsync);

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                UdpReceiveResult q;
                try
                {
                    q = await _udp.ReceiveAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }
                var b = q.Buffer;
                if (b.Length < 12)
                    continue;
                var end = 12;
                while (end < b.Length && b[end] != 0)
                    end += b[end] + 1;
                end = Math.Min(b.Length, end + 5); // the root label, QTYPE, QCLASS
                var answer = b[..end];
                answer[2] = (byte)(0x80 | (b[2] & 0x01)); // QR, RD copied
                answer[3] = 0x83;                          // RA, RCODE 3
                answer[6] = answer[7] = answer[8] = answer[9] = answer[10] = answer[11] = 0;
                await _udp.SendAsync(answer, q.RemoteEndPoint);
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _udp.Dispose();
        }
    }
}
