using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Mailroom.Contracts;
using Mailroom.Mail.Addresses;
using MimeKit;

namespace Mailroom.Tests.Queue;

/// <summary>
/// Accepted means durable: clients send while <c>mailroom serve</c> is killed with SIGKILL; after a restart on the
/// same data, every message that got a 200 reaches the SMTP sink. Duplicates are allowed only for messages that
/// were in flight in delivery at the kill (at least once).
/// </summary>
public sealed class CrashTests
{
    [Fact]
    public async Task EveryAcknowledgedMessageIsDeliveredAfterAKill9()
    {
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        await using var round = await Kill9Round.StartAsync(ProcessApi.RelayingArgs(dns, sink));
        var server = await round.First.NewServerAsync("Crash", new { Name = "Crash" });

        var inFlight = 0;
        var maxInFlight = 0;
        const int clients = 8;
        round.Load(clients, async (c, stop) =>
        {
            using var http = round.First.ServerApi(server.ApiTokens[0], TimeSpan.FromSeconds(30));
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var rcpt = $"c{c}-m{i}@example.net";
                var n = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref maxInFlight, n);
                try
                {
                    var res = await http.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = rcpt, Subject = rcpt, TextBody = "crash test" });
                    if (res.IsSuccessStatusCode)
                    {
                        var body = await res.Content.ReadFromJsonAsync<JsonElement>();
                        _ = Guid.Parse(body.GetProperty("MessageID").GetString()!); // a 200 names the message it accepted
                        round.Acknowledge(rcpt);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The server died under this request: no 200, so no promise was made.
                    return;
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            }
        });

        // Let mail flow (accepting and delivering), then kill -9 in the middle of it.
        var deliveredBeforeKill = await round.KillWhenAsync(() => round.Acknowledged >= 150 && !sink.Messages.IsEmpty, () => sink.Messages.Count);

        var delivered = await round.RestartUntilAllSeenAsync(() => Delivered(sink), timeoutSeconds: 180, seenAs: "delivered");
        var missing = round.AcknowledgedKeys.Where(r => !delivered.ContainsKey(r)).ToList();
        Assert.Empty(missing);
        var duplicates = delivered.Values.Sum(n => n - 1);
        // A duplicate is a message delivered before the kill whose outcome was not yet recorded: at most one
        // delivery round's worth (the claim batch), never a message of its own making.
        Assert.InRange(duplicates, 0, 500);
        Assert.True(deliveredBeforeKill > 0);
        TestContext.Current.SendDiagnosticMessage($"acknowledged {round.Acknowledged}, delivered before kill {deliveredBeforeKill}, duplicates {duplicates}, max requests in flight {maxInFlight}");
    }

    /// <summary>
    /// Issue 10's chaos test: API clients (<c>/email</c> with up to 10 recipients, <c>/email/batch</c>), SMTP submission
    /// clients (MailKit, STARTTLS, AUTH with the server token) and a remote MTA sending DSNs to the MX listener, all at
    /// once, while the server is killed with SIGKILL and restarted on the same data three times. At the end every
    /// acknowledged message (200 from the API, 250 from SMTP) has reached the sink for each of its recipients, and no
    /// copy is corrupted: each body equals what was submitted. Duplicates (copies in flight at a kill) are allowed,
    /// counted and printed.
    /// </summary>
    [Fact]
    public async Task MixedLoadThroughThreeKill9sLosesAndCorruptsNothing()
    {
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        var smtpPort = SmtpSink.FreeTcpPort();
        var mxPort = SmtpSink.FreeTcpPort();
        var args = ProcessApi.RelayingArgs(dns, sink, "--smtp", $"127.0.0.1:{smtpPort}", "--mx", $"127.0.0.1:{mxPort}");
        var server = await MailroomProcess.StartAsync(args);
        var baseUrl = server.BaseUrl;
        var token = (await server.NewServerAsync("Chaos", new { Name = "Chaos" })).ApiTokens[0];

        // Every recipient address is used by one message only, so a sink copy names what it must contain.
        var submitted = new ConcurrentDictionary<string, string>(StringComparer.OrdinalIgnoreCase); // recipient -> body (acknowledged or not)
        var acknowledged = new ConcurrentDictionary<string, byte>(StringComparer.OrdinalIgnoreCase); // recipients of acknowledged messages
        var counts = new ConcurrentDictionary<string, int>(); // acknowledgements by client kind
        using var stop = new CancellationTokenSource();

        async Task RetryLaterAsync()
        {
            try { await Task.Delay(200, stop.Token); } catch (OperationCanceledException) { }
        }

        void Acknowledge(string kind, IEnumerable<string> recipients)
        {
            foreach (var r in recipients)
                acknowledged[r] = 0;
            counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        string[] NewMessage(string prefix, int recipients, out string body)
        {
            var rcpts = Enumerable.Range(0, recipients).Select(r => $"{prefix}-r{r}@example.net").ToArray();
            var lines = 20 + (prefix.GetHashCode() & 0x3f) * 4;
            var text = string.Join("\n", Enumerable.Range(0, lines).Select(l => $"{prefix} line {l:000}: the quick brown fox jumps over the lazy dog"));
            foreach (var r in rcpts)
                submitted[r] = text;
            body = text;
            return rcpts;
        }

        var api = Enumerable.Range(0, 2).Select(c => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(20) };
            http.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var rcpts = NewMessage($"api{c}-m{i}", i % 5 == 0 ? 10 : 1 + i % 3, out var body);
                try
                {
                    var res = await http.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = string.Join(", ", rcpts), Subject = $"api{c}-m{i}", TextBody = body });
                    if (res.IsSuccessStatusCode)
                        Acknowledge("api", rcpts);
                    else
                        await RetryLaterAsync();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    await RetryLaterAsync(); // the server is down: no 200, no promise
                }
            }
        })).ToList();

        var batch = Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(20) };
            http.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var messages = Enumerable.Range(0, 5).Select(k =>
                {
                    var rcpts = NewMessage($"batch-b{i}-k{k}", 1 + k % 2, out var body);
                    return (Recipients: rcpts, Request: new { From = "app@mailroom.test", To = string.Join(", ", rcpts), Subject = $"batch {i} {k}", TextBody = body });
                }).ToList();
                try
                {
                    var res = await http.PostAsJsonAsync("/email/batch", messages.Select(m => m.Request));
                    if (!res.IsSuccessStatusCode)
                    {
                        await RetryLaterAsync();
                        continue;
                    }
                    var results = (await res.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
                    for (var k = 0; k < results.Count; k++)
                        if (results[k].GetProperty("ErrorCode").GetInt32() == 0)
                            Acknowledge("batch", messages[k].Recipients);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    await RetryLaterAsync();
                }
            }
        });

        var smtp = Enumerable.Range(0, 2).Select(c => Task.Run(async () =>
        {
            SmtpClient? client = null;
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var rcpts = NewMessage($"smtp{c}-m{i}", 1 + i % 4, out var body);
                try
                {
                    if (client is not { IsConnected: true, IsAuthenticated: true })
                    {
                        client?.Dispose();
                        client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false, Timeout = 20_000 };
                        await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.StartTls);
                        await client.AuthenticateAsync(token, token);
                    }
                    var message = new MimeMessage();
                    message.From.Add(MailboxAddress.Parse("app@mailroom.test"));
                    foreach (var r in rcpts)
                        message.To.Add(MailboxAddress.Parse(r));
                    message.Subject = $"smtp{c}-m{i}";
                    message.Body = new TextPart("plain") { Text = body };
                    var reply = await client.SendAsync(message); // returns only on a 250 to DATA
                    Assert.Matches("queued as", reply);
                    Acknowledge("smtp", rcpts);
                }
                catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or ServiceNotAuthenticatedException
                                              or AuthenticationException or IOException or SocketException or OperationCanceledException or TimeoutException)
                {
                    client?.Dispose();
                    client = null;
                    await RetryLaterAsync();
                }
            }
            client?.Dispose();
        })).ToList();

        // A remote MTA reporting "mailbox full, still trying" (RFC 3464 delayed, 4.2.2) for delivered copies, at their VERP
        // address: inbound work for the MX listener that must not disturb outbound delivery.
        var dsnErrors = new ConcurrentQueue<string>();
        var dsns = Task.Run(async () =>
        {
            var sent = new HashSet<string>();
            while (!stop.IsCancellationRequested)
            {
                var copy = sink.Messages.Skip(Random.Shared.Next(Math.Max(1, sink.Messages.Count))).FirstOrDefault();
                if (copy is null || !Verp.TryDecode(copy.MailFrom, out _) || sent.Contains(copy.MailFrom))
                {
                    await RetryLaterAsync();
                    continue;
                }
                try
                {
                    using var client = new SmtpClient { Timeout = 20_000 };
                    await client.ConnectAsync("127.0.0.1", mxPort, SecureSocketOptions.None);
                    await client.SendAsync(DelayedDsn(copy), new MailboxAddress("", "mailer-daemon@mx.example.net"), [MailboxAddress.Parse(copy.MailFrom)]);
                    await client.DisconnectAsync(true);
                    sent.Add(copy.MailFrom);
                    counts.AddOrUpdate("dsn", 1, (_, n) => n + 1);
                    continue;
                }
                catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or IOException or SocketException
                                              or OperationCanceledException or TimeoutException)
                {
                    dsnErrors.Enqueue($"{e.GetType().Name}: {e.Message}");
                    await RetryLaterAsync();
                }
                await RetryLaterAsync();
            }
        });

        var clients = api.Concat(smtp).Append(batch).Append(dsns).ToList();
        (int Acknowledged, int Copies, int Api, int Batch, int Smtp, int Dsn) Snapshot() => (acknowledged.Count, sink.Messages.Count,
            counts.GetValueOrDefault("api"), counts.GetValueOrDefault("batch"), counts.GetValueOrDefault("smtp"), counts.GetValueOrDefault("dsn"));
        var kills = new List<string>();
        try
        {
            for (var kill = 1; kill <= 3; kill++)
            {
                // Let mail flow through this run (accepted and delivered), then kill -9 in the middle of it.
                // Every run sees all four kinds of traffic.
                var before = Snapshot();
                await Eventually.True(() => Task.FromResult(acknowledged.Count >= before.Acknowledged + 50 && sink.Messages.Count >= before.Copies + 15
                        && Snapshot() is var now && now.Api > before.Api && now.Batch > before.Batch && now.Smtp > before.Smtp && now.Dsn > before.Dsn),
                    timeoutSeconds: 60, because: $"run {kill} did not see every kind of traffic");
                await server.KillAsync();
                kills.Add($"kill {kill}: {acknowledged.Count} acknowledged, {sink.Messages.Count} copies at the sink");
                await Task.Delay(300); // clients see the dead server
                var killed = server;
                server = await killed.RestartAsync(args);
                await killed.DisposeAsync(); // keeps the data folder: the restarted server owns it
            }
            var ackedAtLastStart = acknowledged.Count;
            await Eventually.True(() => Task.FromResult(acknowledged.Count >= ackedAtLastStart + 30), timeoutSeconds: 60);
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(clients);
        }

        try
        {
            // SQLite (one file, one process) releases a killed run's claims at start. On PostgreSQL a restarted process is a
            // new node: the killed node's claims move once its heartbeat is older than the lease (60 s), so wait past that.
            var until = DateTime.UtcNow.AddSeconds(TestDatabase.IsPostgres ? 150 : 60);
            while (DateTime.UtcNow < until && !acknowledged.Keys.All(Delivered(sink).ContainsKey))
                await Task.Delay(100);
            var reached = Delivered(sink);
            var missing = acknowledged.Keys.Where(r => !reached.ContainsKey(r)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledged.Count} acknowledged recipients never reached the sink: {string.Join(", ", missing.Take(10))}\n{server.Output}");
            var corrupted = new List<string>();
            foreach (var copy in sink.Messages)
            {
                var parsed = MimeMessage.Load(new MemoryStream(copy.Data));
                var recipient = Assert.Single(copy.Recipients);
                Assert.True(submitted.TryGetValue(recipient, out var expected), $"{recipient} was never submitted");
                if (Normalize(parsed.TextBody) != Normalize(expected))
                    corrupted.Add(recipient);
            }
            var delivered = Delivered(sink);
            var duplicates = delivered.Values.Sum(n => n - 1);
            var unacknowledged = delivered.Keys.Count(r => !acknowledged.ContainsKey(r));
            var summary = $"{string.Join("; ", kills)}. Acknowledged: {acknowledged.Count} recipients (acknowledged requests: {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key}"))}); "
                + $"copies at the sink {sink.Messages.Count}, duplicates {duplicates}, delivered but never acknowledged (in flight at a kill) {unacknowledged}, corrupted {corrupted.Count}; "
                + $"DSNs refused or cut off (server down or killed): {dsnErrors.Count} ({string.Join(" | ", dsnErrors.Distinct())})";
            TestContext.Current.SendDiagnosticMessage(summary);
            Console.WriteLine(summary);
            Assert.True(corrupted.Count == 0, $"corrupted copies for {string.Join(", ", corrupted.Take(10))}. {summary}");
            Assert.All(new[] { "api", "batch", "smtp", "dsn" }, k => Assert.True(counts.ContainsKey(k), $"no {k} traffic was acknowledged: {summary}"));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static string Normalize(string? s) => (s ?? "").Replace("\r\n", "\n").TrimEnd('\n');

    private static MimeMessage DelayedDsn(SinkMessage copy) =>
        ReportMail.Dsn(copy.MailFrom, copy.Recipients[0], "4.2.2", "452 4.2.2 Mailbox full", copy.Data, action: "delayed",
            subject: "Delivery delayed", text: "Your message is delayed.");

    private static Dictionary<string, int> Delivered(SmtpSink sink) =>
        Kill9Round.Tally(sink.Messages.SelectMany(m => m.Recipients), StringComparer.OrdinalIgnoreCase);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
