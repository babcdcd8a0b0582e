using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;

namespace Mailroom.Tests.Delivery;

/// <summary>
/// Delivery to a real SMTP server on loopback, through the smart-host path (no DNS). The stages are driven by
/// hand (role api only), so time moves only when the test advances the fake clock.
/// </summary>
public sealed class DeliveryTests() : RelayedHostTests()
{
    private async Task<Guid> SendAsync(Tenant t, string to, string subject = "Hello")
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = subject, TextBody = "Hi" }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    private async Task<List<JsonElement>> EventsAsync(Tenant t, Guid id)
    {
        var d = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        return d.GetProperty("MessageEvents").EnumerateArray().ToList();
    }

    [Fact]
    public async Task DeliversWithStartTlsAndRecordsTheDeliveredEvent()
    {
        var t = await Host.CreateTenantAsync();
        var id = await SendAsync(t, "jo@example.net");
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());

        var got = Assert.Single(Sink.Messages);
        Assert.Equal(["jo@example.net"], got.Recipients);
        Assert.True(got.Secure, "STARTTLS was offered and should have been used");
        Assert.StartsWith("pm_bounces+" + id.ToString("N") + "-0-", got.MailFrom);
        var ev = Assert.Single(await EventsAsync(t, id));
        Assert.Equal("Delivered", ev.GetProperty("Type").GetString());
        Assert.Equal("jo@example.net", ev.GetProperty("Recipient").GetString());
        var details = ev.GetProperty("Details");
        Assert.StartsWith("250", details.GetProperty("DeliveryMessage").GetString());
        Assert.Equal("127.0.0.1", details.GetProperty("DestinationIP").GetString());
        Assert.StartsWith("Tls", details.GetProperty("TlsProtocol").GetString());
        Assert.Equal("False", details.GetProperty("TlsCertificateVerified").GetString()); // self-signed
        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&status=sent").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task SendsSeveralMessagesOverOneConnection()
    {
        var t = await Host.CreateTenantAsync();
        for (var i = 0; i < 5; i++)
            await SendAsync(t, $"r{i}@example.net", $"n{i}");
        Assert.Equal(5, await PrepareAsync());
        Assert.Equal(5, await DeliverAsync());
        Assert.Equal(5, Sink.Messages.Count);
        Assert.Single(Sink.Messages.Select(m => m.SessionId).Distinct());
    }

    /// <summary>The stored bytes go out as they are (only their header block is parsed): lines that start with a dot
    /// are dot-stuffed on the wire (RFC 5321 §4.5.2) and arrive as stored, the SIZE parameter names the stored length.</summary>
    [Fact]
    public async Task LinesStartingWithADotArriveAsStored()
    {
        var t = await Host.CreateTenantAsync();
        var body = ".\n..two dots\n.leading dot\nmiddle\n.\n. space\nend .\n.\nlast";
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "dots@example.net", Subject = "Dots", TextBody = body }).OkJson();
        var id = Guid.Parse(r.GetProperty("MessageID").GetString()!);
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());

        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
            .Where(m => m.Id == id).Select(m => m.Mime!).SingleAsync());
        var data = Assert.Single(Sink.Messages).Data;
        var text = System.Text.Encoding.ASCII.GetString(stored);
        Assert.Contains("\r\n.", text); // lines that start with a dot are stored: the wire must stuff and the sink unstuff them
        // The CRLF ending the last line is also the first CRLF of the "<CRLF>.<CRLF>" terminator (RFC 5321 §4.1.1.4):
        // the test sink (SmtpServer) hands over the data without it.
        Assert.Equal(text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text, System.Text.Encoding.ASCII.GetString(data));
    }

    [Fact]
    public async Task RetriesA4xxByTheScheduleThenDelivers()
    {
        var t = await Host.CreateTenantAsync();
        var failures = 2;
        Sink.RecipientReply = _ => failures-- > 0 ? (451, "4.3.0 Try again later") : null;
        var id = await SendAsync(t, "later@example.net");
        await PrepareAsync();

        Assert.Equal(1, await DeliverAsync());           // attempt 1: 451
        Assert.Equal(0, await DeliverAsync());           // not due yet
        Host.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await DeliverAsync());           // still 1 s early
        Host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await DeliverAsync());           // attempt 2 after 1 min: 451
        Host.Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await DeliverAsync());
        Host.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await DeliverAsync());           // attempt 3 after 5 min: delivered

        var events = await EventsAsync(t, id);
        Assert.Equal(["Transient", "Transient", "Delivered"], events.Select(e => e.GetProperty("Type").GetString()));
        Assert.Contains("451", events[0].GetProperty("Details").GetProperty("DeliveryMessage").GetString());
        Assert.Single(Sink.Messages);
    }

    [Fact]
    public async Task BouncesWhenTheMaximumAgeIsReached()
    {
        var t = await Host.CreateTenantAsync();
        Sink.RecipientReply = _ => (421, "4.7.0 Busy");
        var id = await SendAsync(t, "busy@example.net");
        await PrepareAsync();
        var attempts = 0;
        for (var hour = 0; hour < 80; hour++)
        {
            attempts += await DeliverAsync();
            Host.Clock.Advance(TimeSpan.FromHours(1));
        }
        var events = await EventsAsync(t, id);
        var last = events[^1];
        Assert.Equal("Bounced", last.GetProperty("Type").GetString());
        Assert.Contains("gave up", last.GetProperty("Details").GetProperty("Summary").GetString());
        Assert.All(events[..^1], e => Assert.Equal("Transient", e.GetProperty("Type").GetString()));
        // 1, 5, 10, 30 min, 1, 2, 4 h, then every 8 h until 72 h: a bounded number of tries, none after the bounce.
        Assert.InRange(attempts, 10, 20);
        Assert.Equal(0, await DeliverAsync());
        var state = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.AsNoTracking().SingleAsync(d => d.MessageId == id));
        Assert.Equal(DeliveryState.Failed, state.State);
    }

    [Fact]
    public async Task A5xxIsABounceWithTheRemoteReply()
    {
        var t = await Host.CreateTenantAsync();
        Sink.RecipientReply = r => r.StartsWith("nobody") ? (550, "5.1.1 No such user here") : null;
        var bad = await SendAsync(t, "nobody@example.net");
        var good = await SendAsync(t, "somebody@example.net");
        await PrepareAsync();
        await DeliverAsync();
        var events = await EventsAsync(t, bad);
        // A hard bounce also suppresses the address: the Bounced event is followed by SubscriptionChanged.
        Assert.Equal(["Bounced", "SubscriptionChanged"], events.Select(e => e.GetProperty("Type").GetString()).Order(StringComparer.Ordinal));
        var ev = events.Single(e => e.GetProperty("Type").GetString() == "Bounced");
        Assert.Contains("550 5.1.1 No such user here", ev.GetProperty("Details").GetProperty("DeliveryMessage").GetString());
        Assert.Equal("Delivered", Assert.Single(await EventsAsync(t, good)).GetProperty("Type").GetString());
        Assert.Equal(0, await DeliverAsync());
    }

    [Fact]
    public async Task SandboxServersDeliverNothing()
    {
        var t = await Host.CreateTenantAsync("Sandboxed", deliveryType: "Sandbox");
        var id = await SendAsync(t, "jo@example.net");
        await PrepareAsync();
        Assert.Equal(0, await DeliverAsync());
        Assert.Empty(Sink.Messages);
        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.True(details.GetProperty("Sandboxed").GetBoolean());
        Assert.Equal("Delivered", Assert.Single(details.GetProperty("MessageEvents").EnumerateArray()).GetProperty("Type").GetString());
        var dump = await t.ServerApi.GetAsync($"/messages/outbound/{id}/dump").OkJson();
        Assert.Contains("Subject: Hello", dump.GetProperty("Body").GetString());
    }

    [Fact]
    public async Task MessagesArePurgedAfterTheRetentionPeriod()
    {
        var t = await Host.CreateTenantAsync();
        var old = await SendAsync(t, "old@example.net");
        await PrepareAsync();
        await DeliverAsync();
        Host.Clock.Advance(TimeSpan.FromDays(40));
        var young = await SendAsync(t, "young@example.net");
        await PrepareAsync();
        await DeliverAsync();
        Host.Clock.Advance(TimeSpan.FromDays(6)); // the hourly retention job runs on the injected clock
        await Host.ScopedAsync(sp => sp.GetRequiredService<MessageRetention>().PurgeAsync());
        await t.ServerApi.GetAsync($"/messages/outbound/{old}/details").Error(422, 701);
        await t.ServerApi.GetAsync($"/messages/outbound/{young}/details").OkJson();
    }

    [Fact]
    public async Task ADeliveryClaimedByADeadWorkerIsTakenAgainAfterItsLease()
    {
        var t = await Host.CreateTenantAsync();
        var id = await SendAsync(t, "jo@example.net");
        await PrepareAsync();
        var lease = Host.Clock.GetUtcNow().AddMinutes(10).ToUnixTimeMilliseconds();
        await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.Where(d => d.MessageId == id)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseOwner, "dead-node").SetProperty(d => d.LeaseUntil, lease)));
        Assert.Equal(0, await DeliverAsync());
        Host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await DeliverAsync());
        Assert.Single(Sink.Messages);
    }

    [Fact]
    public async Task TheBackgroundWorkersDeliverWithoutHelp()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{Sink.Port}", Roles = "all" });
        var t = await host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "auto@example.net", TextBody = "x" }).OkJson();
        await Eventually.True(() => Task.FromResult(Sink.Messages.Any(m => m.Recipients.Contains("auto@example.net"))));
    }
}
