using Mailroom.Contracts;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// Events are never lost: mail is sent and delivered, and its Delivery webhooks posted, while <c>mailroom serve</c> is
/// killed with SIGKILL; after a restart on the same data every acknowledged message's Delivery event reaches the
/// receiver at least once. Duplicates (posted before the kill, outcome not yet recorded) are counted and printed.
/// </summary>
public sealed class WebhookCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryEventReachesTheReceiverAfterAKill9()
    {
        using var dns = TestDnsServer.Start();
        await using var sink = new SmtpSink(tls: false);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var round = await Kill9Round.StartAsync(ProcessApi.RelayingArgs(dns, sink, "--allow-private-webhooks"));
        var server = await round.First.NewServerAsync("Crash hooks", new { Name = "Crash" });
        using (var api = round.First.ServerApi(server.ApiTokens[0]))
        {
            await api.PostAsJsonAsync("/webhooks", new { Url = receiver.BaseUrl + "/events", Triggers = new { Delivery = new { Enabled = true } } }).OkJson();
        }

        round.Load(4, async (c, stop) =>
        {
            using var http = round.First.ServerApi(server.ApiTokens[0], TimeSpan.FromSeconds(30));
            // Bounded load: senders pause at 600 acknowledged messages, so a slow start of delivery or posting (a busy
            // machine) cannot pile up more events than the restart can post within the wait below.
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                while (round.Acknowledged >= 600 && !stop.IsCancellationRequested)
                    await Task.Delay(50);
                if (stop.IsCancellationRequested)
                    break;
                var rcpt = $"c{c}-m{i}@example.net";
                try
                {
                    var res = await http.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = rcpt, Subject = rcpt, TextBody = "crash test" });
                    if (res.IsSuccessStatusCode)
                        round.Acknowledge(rcpt);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    return; // killed under this request: no 200, no promise
                }
            }
        });

        // Kill while events flow: mail accepted, delivered and posted.
        var beforeKill = await round.KillWhenAsync(() => round.Acknowledged >= 100 && receiver.Received.Count >= 20, () => receiver.Received.Count);

        var posted = await round.RestartUntilAllSeenAsync(() => Posted(receiver), timeoutSeconds: 180, seenAs: "Delivery events received");
        var missing = round.AcknowledgedKeys.Where(r => !posted.ContainsKey(r)).ToList();
        Assert.Empty(missing);
        var duplicates = posted.Where(p => p.Value > 1).ToList();
        output.WriteLine($"{round.Acknowledged} messages acknowledged; {beforeKill} POSTs before the kill; {receiver.Received.Count} in all; " +
            $"{duplicates.Sum(d => d.Value - 1)} duplicate(s): {string.Join(", ", duplicates.Select(d => $"{d.Key} x{d.Value}"))}");
        Assert.All(receiver.Received, r => Assert.Equal("Delivery", JsonDocument.Parse(r.Body).RootElement.GetProperty("RecordType").GetString()));
    }

    private static Dictionary<string, int> Posted(WebhookReceiver receiver) =>
        Kill9Round.Tally(receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Recipient").GetString()!));
}
