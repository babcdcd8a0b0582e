using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Infrastructure;
using MimeKit;
using Xunit;

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
        string[] args = ["--platform-domain", "mailroom.test", "--dns", dns.Address, "--relay", $"127.0.0.1:{sink.Port}", "--roles", "all"];
        var first = await MailroomProcess.StartAsync(args);
        var account = await first.CreateAccountAsync("Crash");
        using var admin = new HttpClient { BaseAddress = new Uri(first.BaseUrl) };
        admin.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        var server = (await (await admin.PostAsJsonAsync("/servers", new { Name = "Crash" })).Content.ReadFromJsonAsync<ServerResponse>())!;

        var acknowledged = new ConcurrentDictionary<string, Guid>();
        var inFlight = 0;
        var maxInFlight = 0;
        using var stop = new CancellationTokenSource();
        const int clients = 8;
        var senders = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(first.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Postmark-Server-Token", server.ApiTokens[0]);
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
                        acknowledged[rcpt] = Guid.Parse(body.GetProperty("MessageID").GetString()!);
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
        })).ToList();

        // Let mail flow (accepting and delivering), then kill -9 in the middle of it.
        await Eventually.True(() => Task.FromResult(acknowledged.Count >= 150 && !sink.Messages.IsEmpty), timeoutSeconds: 120);
        await first.KillAsync();
        stop.Cancel();
        await Task.WhenAll(senders);
        var deliveredBeforeKill = sink.Messages.Count;

        await using var second = await first.RestartAsync(args);
        await Eventually.True(() => Task.FromResult(Delivered(sink).Keys.Count(acknowledged.ContainsKey) == acknowledged.Count), timeoutSeconds: 180,
            because: $"{acknowledged.Count} acknowledged, {Delivered(sink).Keys.Count(acknowledged.ContainsKey)} delivered");

        var delivered = Delivered(sink);
        var missing = acknowledged.Keys.Where(r => !delivered.ContainsKey(r)).ToList();
        Assert.Empty(missing);
        var duplicates = delivered.Values.Sum(n => n - 1);
        // A duplicate is a message delivered before the kill whose outcome was not yet recorded: at most one
        // delivery round's worth (the claim batch), never a message of its own making.
        Assert.InRange(duplicates, 0, 500);
        Assert.True(deliveredBeforeKill > 0);
        TestContext.Current.SendDiagnosticMessage($"acknowledged {acknowledged.Count}, delivered before kill {deliveredBeforeKill}, duplicates {duplicates}, max requests in flight {maxInFlight}");
    }

    private static Dictionary<string, int> Delivered(SmtpSink sink) =>
        sink.Messages.SelectMany(m => m.Recipients).GroupBy(r => r, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
