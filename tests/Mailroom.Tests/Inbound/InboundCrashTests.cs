using Mailroom.Contracts;
using Mailroom.Tests.Webhooks;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Inbound;

/// <summary>
/// Accepted inbound mail is never lost: while the customer's receiver is down (it answers 500), MailKit senders deliver
/// to the MX listener and <c>mailroom serve</c> is killed with SIGKILL; after a restart on the same data, with the
/// receiver back, every message the listener answered 250 for reaches the receiver (on the inbound schedule's first
/// retry, a minute later in real time).
/// </summary>
public sealed class InboundCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryAcceptedInboundMessageReachesTheReceiverAfterAKill9()
    {
        using var dns = TestDnsServer.Start();
        await using var receiver = await WebhookReceiver.StartAsync();
        var down = true;
        receiver.Respond = (_, _) => (Volatile.Read(ref down) ? 500 : 200, null);
        var mxPort = SmtpSink.FreeTcpPort();
        string[] args = ["--roles", "api,mx,delivery", "--mx", $"127.0.0.1:{mxPort}", "--dns", dns.Address, "--inbound-host", "inbound.mailroom.test",
            "--allow-private-webhooks", "--platform-domain", "mailroom.test", "--delivery-port", "9"];
        await using var round = await Kill9Round.StartAsync(args);
        var server = await round.First.NewServerAsync("Crash inbound", new { Name = "Crash", InboundHookUrl = receiver.BaseUrl + "/inbound" });

        round.Load(3, async (c, stop) =>
        {
            using var smtp = new SmtpClient();
            try
            {
                await smtp.ConnectAsync("127.0.0.1", mxPort, MailKit.Security.SecureSocketOptions.None);
                for (var i = 0; !stop.IsCancellationRequested && round.Acknowledged < 300; i++)
                {
                    var subject = $"c{c}-m{i}";
                    var m = new MimeMessage { Subject = subject };
                    m.From.Add(MailboxAddress.Parse("jane@sender.example"));
                    m.To.Add(MailboxAddress.Parse(server.InboundAddress));
                    m.Body = new TextPart("plain") { Text = "crash test" };
                    await smtp.SendAsync(m);
                    round.Acknowledge(subject); // the 250 came
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or SmtpProtocolException or SmtpCommandException or OperationCanceledException)
            {
                // Killed under this transaction: no 250, no promise.
            }
        });

        // Kill while mail is accepted and posts are failing.
        var failedBefore = await round.KillWhenAsync(() => round.Acknowledged >= 50 && receiver.Received.Count >= 5, () => receiver.Received.Count);
        Volatile.Write(ref down, false);

        await round.RestartUntilAllSeenAsync(() => Posted(receiver, failedBefore), timeoutSeconds: 240, seenAs: "posted with 200");
        output.WriteLine($"{round.Acknowledged} messages acknowledged; {failedBefore} failed POSTs before the kill; {receiver.Received.Count} POSTs in all");
    }

    /// <summary>Subjects of the POSTs the receiver answered 200 to: those after the kill (the process was dead when the
    /// receiver came back, so every earlier POST got 500).</summary>
    private static Dictionary<string, int> Posted(WebhookReceiver receiver, int failedBefore) =>
        Kill9Round.Tally(receiver.Received.Skip(failedBefore).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Subject").GetString()!));
}
