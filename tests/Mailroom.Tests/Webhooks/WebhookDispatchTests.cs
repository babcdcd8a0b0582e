using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Mailroom.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// The dispatcher against a real loopback receiver: headers, auth, signature, Postmark's retry table on a fake clock,
/// 4xx dropped, redirects, refused destinations at send time, attempts in the API, tenant isolation. Events come from
/// the Suppressions API (SubscriptionChange); rounds are driven by hand (role api: no worker runs).
/// </summary>
public sealed class WebhookDispatchTests : IAsyncLifetime
{
    private MailroomHost _host = null!;
    private WebhookReceiver _receiver = null!;
    private TestDnsServer _dns = null!;

    public async ValueTask InitializeAsync()
    {
        _dns = TestDnsServer.Start();
        _receiver = await WebhookReceiver.StartAsync();
        _host = await MailroomHost.StartAsync(tweak: s => s with { AllowPrivateWebhooks = true, Dns = _dns.Address });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        _dns.Dispose();
    }

    private Task<int> RoundAsync() => _host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);

    private static async Task<(int Id, string Secret)> CreateHookAsync(Tenant t, string url, object? auth = null)
    {
        var r = await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = url,
            HttpAuth = auth,
            HttpHeaders = new[] { new { Name = "X-Customer", Value = "c-1" } },
            Triggers = new { SubscriptionChange = new { Enabled = true } },
        }).OkJson();
        return (r.GetProperty("ID").GetInt32(), r.GetProperty("SigningSecret").GetString()!);
    }

    private static Task SuppressAsync(Tenant t, string email) =>
        t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", new { Suppressions = new[] { new { EmailAddress = email } } }).OkJson();

    [Fact]
    public async Task PostsTheSubscriptionChangePayloadSignedWithHeadersAndBasicAuth()
    {
        var t = await _host.CreateTenantAsync();
        var (_, secret) = await CreateHookAsync(t, _receiver.BaseUrl + "/a", new { Username = "hook", Password = "pw:1" });
        await SuppressAsync(t, "Someone@Example.net");
        Assert.Equal(1, await RoundAsync());
        var got = Assert.Single(_receiver.At("/a"));
        var body = JsonDocument.Parse(got.Body).RootElement;
        Assert.Equal(
            ["RecordType", "MessageID", "ServerID", "MessageStream", "ChangedAt", "Recipient", "Origin", "SuppressSending", "SuppressionReason", "Tag", "Metadata"],
            body.EnumerateObject().Select(p => p.Name));
        Assert.Equal("SubscriptionChange", body.GetProperty("RecordType").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("MessageID").ValueKind);
        Assert.Equal(t.Server.ID, body.GetProperty("ServerID").GetInt32());
        Assert.Equal("outbound", body.GetProperty("MessageStream").GetString());
        Assert.Equal("2026-11-29T12:00:00.0000000Z", body.GetProperty("ChangedAt").GetString());
        Assert.Equal("someone@example.net", body.GetProperty("Recipient").GetString());
        Assert.Equal("Customer", body.GetProperty("Origin").GetString());
        Assert.True(body.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal("ManualSuppression", body.GetProperty("SuppressionReason").GetString());
        Assert.Equal("{}", body.GetProperty("Metadata").GetRawText());

        Assert.StartsWith("application/json", got.Headers["Content-Type"]);
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("hook:pw:1")), got.Headers["Authorization"]);
        Assert.Equal("c-1", got.Headers["X-Customer"]);
        Assert.Equal("6", got.Headers["X-PM-Retries-Remaining"]);
        Assert.False(string.IsNullOrEmpty(got.Headers["X-PM-Webhook-Trace-Id"]));
        var now = _host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, secret, now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body + " ", secret, now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, "whsec_other", now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, secret, now + 3600));

        // Reactivation: SuppressSending false, no reason.
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete", new { Suppressions = new[] { new { EmailAddress = "someone@example.net" } } }).OkJson();
        Assert.Equal(1, await RoundAsync());
        var back = JsonDocument.Parse(_receiver.At("/a")[1].Body).RootElement;
        Assert.False(back.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal(JsonValueKind.Null, back.GetProperty("SuppressionReason").ValueKind);
    }

    [Fact]
    public async Task TheRetentionJobPurgesOldEventsDeliveriesAndAttemptsButNotPendingOnes()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/r");
        foreach (var email in new[] { "a1@example.net", "a2@example.net", "a3@example.net" })
            await SuppressAsync(t, email);
        Assert.Equal(3, await RoundAsync());
        await SuppressAsync(t, "pending@example.net"); // old, never posted: must survive the purge
        _host.Clock.Advance(TimeSpan.FromDays(40));
        await SuppressAsync(t, "young@example.net");
        _host.Clock.Advance(TimeSpan.FromDays(6)); // the first four are now past the 45-day retention
        await _host.ScopedAsync(sp => sp.GetRequiredService<Mailroom.Core.Queue.MessageRetention>().PurgeAsync());

        var (events, deliveries, attempts) = await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            return (await db.WebhookEvents.CountAsync(e => e.ServerId == t.Server.ID),
                await db.WebhookDeliveries.CountAsync(d => d.ServerId == t.Server.ID),
                await db.WebhookAttempts.CountAsync(a => a.ServerId == t.Server.ID));
        });
        Assert.Equal((2, 2, 0), (events, deliveries, attempts));
        var replay = await t.ServerApi.GetAsync("/events?count=10").OkJson();
        Assert.Equal(["pending@example.net", "young@example.net"],
            replay.GetProperty("Events").EnumerateArray().Select(e => e.GetProperty("Recipient").GetString()));
        // The old pending event is still posted.
        Assert.Equal(2, await RoundAsync());
        Assert.Contains(_receiver.At("/r"), r => r.Body.Contains("pending@example.net"));
    }

    [Fact]
    public async Task WebhookPurgeWorksInBatchesUntilNothingOldIsLeft()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/b");
        for (var i = 0; i < 5; i++)
            await SuppressAsync(t, $"b{i}@example.net");
        Assert.Equal(5, await RoundAsync());
        var cutoff = _host.Clock.GetUtcNow().AddMinutes(1).ToUnixTimeMilliseconds();
        var purged = await _host.ScopedAsync(sp => WebhookRetention.PurgeAsync(sp.GetRequiredService<MailroomDb>(), cutoff, CancellationToken.None, batch: 2));
        Assert.Equal(5, purged);
        Assert.Equal(0, await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookEvents.CountAsync(e => e.ServerId == t.Server.ID)));
    }

    [Fact]
    public async Task UserinfoInTheUrlGivesBasicAuth()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl.Replace("http://", "http://u%40x:p%3A@") + "/ui");
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u@x:p:")), Assert.Single(_receiver.At("/ui")).Headers["Authorization"]);
    }

    [Fact]
    public async Task AReceiverThatFailsThreeTimesGetsTheEventAFourthTimeOnPostmarksSchedule()
    {
        var t = await _host.CreateTenantAsync();
        var (id, _) = await CreateHookAsync(t, _receiver.BaseUrl + "/flaky");
        _receiver.Respond = (_, n) => (n <= 3 ? 500 : 200, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(0, await RoundAsync()); // not due yet
        _host.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromSeconds(1)); // 1 min
        Assert.Equal(1, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromMinutes(1)); // 5 min
        Assert.Equal(1, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RoundAsync()); // delivered: nothing more
        var got = _receiver.At("/flaky");
        Assert.Equal(4, got.Count);
        Assert.Equal(["6", "5", "4", "3"], got.Select(g => g.Headers["X-PM-Retries-Remaining"]));
        Assert.Single(got.Select(g => g.Body).Distinct());
        var attempts = (await t.ServerApi.GetAsync($"/webhooks/{id}/attempts").OkJson()).GetProperty("Attempts").EnumerateArray().Reverse().ToList();
        Assert.Equal([500, 500, 500, 200], attempts.Select(a => a.GetProperty("StatusCode").GetInt32()));
        Assert.Equal(["Retry", "Retry", "Retry", "Done"], attempts.Select(a => a.GetProperty("Outcome").GetString()));
        Assert.Contains("500", attempts[0].GetProperty("Error").GetString());
    }

    [Fact]
    public async Task RetriesFollowTheTableThenGiveUp()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/down");
        _receiver.Respond = (_, _) => (503, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        foreach (var delay in WebhookRetrySchedule.Delays)
        {
            _host.Clock.Advance(delay - TimeSpan.FromSeconds(1));
            Assert.Equal(0, await RoundAsync());
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await RoundAsync());
        }
        _host.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await RoundAsync());
        Assert.Equal(7, _receiver.At("/down").Count);
        Assert.Equal(["1", "5", "10", "10", "10", "15"], WebhookRetrySchedule.Delays.Select(d => d.TotalMinutes.ToString()));
        var row = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookDeliveries.AsNoTracking().SingleAsync());
        Assert.Equal(WebhookDeliveryState.Failed, row.State);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(502)]
    public async Task RetryableStatusesAreRetried(int status)
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/r");
        _receiver.Respond = (_, n) => (n == 1 ? status : 200, null);
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        _host.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(2, _receiver.At("/r").Count);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(410)]
    public async Task Other4xxAreDroppedWithoutRetry(int status)
    {
        var t = await _host.CreateTenantAsync();
        var (id, _) = await CreateHookAsync(t, _receiver.BaseUrl + "/gone");
        _receiver.Respond = (_, _) => (status, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        _host.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await RoundAsync());
        Assert.Single(_receiver.At("/gone"));
        var a = Assert.Single((await t.ServerApi.GetAsync($"/webhooks/{id}/attempts").OkJson()).GetProperty("Attempts").EnumerateArray());
        Assert.Equal("Dropped", a.GetProperty("Outcome").GetString());
    }

    [Fact]
    public async Task RedirectsAreFollowedWithTheBodyUpToTen()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/moved");
        await CreateHookAsync(t, _receiver.BaseUrl + "/loop");
        _receiver.Respond = (path, _) => path switch
        {
            "/moved" => (307, "/final"),
            "/loop" => (302, "/loop"),
            _ => (200, null),
        };
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(2, await RoundAsync());
        var final = Assert.Single(_receiver.At("/final"));
        Assert.Contains("SubscriptionChange", final.Body);
        Assert.Equal(11, _receiver.At("/loop").Count); // the first POST and 10 redirects, then dropped
        _host.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RoundAsync());
    }

    [Fact]
    public async Task EventsOfServerANeverReachServerBsEndpoint()
    {
        var a = await _host.CreateTenantAsync("A");
        var b = await _host.CreateTenantAsync("B");
        await CreateHookAsync(a, _receiver.BaseUrl + "/tenant-a");
        await CreateHookAsync(b, _receiver.BaseUrl + "/tenant-b");
        await SuppressAsync(a, "only-a@example.net");
        await RoundAsync();
        Assert.Single(_receiver.At("/tenant-a"));
        Assert.Empty(_receiver.At("/tenant-b"));
        var replayB = await b.ServerApi.GetAsync("/events").OkJson();
        Assert.Empty(replayB.GetProperty("Events").EnumerateArray());
    }

    [Fact]
    public async Task ASlowEndpointNeverDelaysAnotherHostsWebhooks()
    {
        // Two customers, two host names on the same loopback receiver: A's endpoint holds every request open until the
        // test lets it answer (a slow or hanging endpoint), B's answers at once.
        var port = new Uri(_receiver.BaseUrl).Port;
        _dns.AddA("slow.hooks.example.com", System.Net.IPAddress.Loopback);
        _dns.AddA("fast.hooks.example.com", System.Net.IPAddress.Loopback);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receiver.Hold = path => path == "/slow" ? release.Task : Task.CompletedTask;
        var a = await _host.CreateTenantAsync("A");
        var b = await _host.CreateTenantAsync("B");
        await CreateHookAsync(a, $"http://slow.hooks.example.com:{port}/slow");
        var (bHook, _) = await CreateHookAsync(b, $"http://fast.hooks.example.com:{port}/fast");
        // A's events are older, so they come first in every claim; more of them than A may have in flight.
        const int events = 20;
        await a.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = Enumerable.Range(0, events).Select(i => new { EmailAddress = $"a{i}@example.net" }).ToArray() }).OkJson();
        await b.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = Enumerable.Range(0, events).Select(i => new { EmailAddress = $"b{i}@example.net" }).ToArray() }).OkJson();

        var dispatcher = _host.App.Services.GetRequiredService<WebhookDispatcher>();
        var perHost = _host.App.Services.GetRequiredService<WebhookOptions>().MaxConcurrencyPerHost;
        using var stop = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(stop.Token);
        try
        {
            // A's slots are all taken by requests that do not answer...
            await Eventually.True(() => Task.FromResult(_receiver.At("/slow").Count == perHost), because: "A's endpoint holds its per-host limit");
            // ...and meanwhile every one of B's events is posted and its outcome recorded (visible through the API).
            await Eventually.True(() => Task.FromResult(_receiver.At("/fast").Count == events), because: "B's events arrive while A's endpoint hangs");
            await Eventually.True(async () =>
                (await b.ServerApi.GetAsync($"/webhooks/{bHook}/attempts").OkJson()).GetProperty("Attempts").GetArrayLength() == events,
                because: "B's attempts are recorded while A's endpoint hangs");
            // A got no more than its limit: the hanging endpoint held its own slots, not B's.
            Assert.Equal(perHost, _receiver.At("/slow").Count);

            release.SetResult();
            await Eventually.True(() => Task.FromResult(_receiver.At("/slow").Count == events), because: "A's events follow once it answers");
            Assert.Equal(events, _receiver.At("/slow").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Recipient").GetString()).Distinct().Count());
        }
        finally
        {
            release.TrySetResult();
            await stop.CancelAsync();
            await worker;
        }
    }

    [Fact]
    public async Task RotatedSecretSignsBesideThePreviousOneFor24Hours()
    {
        var t = await _host.CreateTenantAsync();
        var (id, old) = await CreateHookAsync(t, _receiver.BaseUrl + "/rot");
        var rotated = (await t.ServerApi.PostAsync($"/webhooks/{id}/secret/rotate", null).OkJson()).GetProperty("SigningSecret").GetString()!;
        Assert.NotEqual(old, rotated);
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        var first = _receiver.At("/rot")[0];
        var now = _host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(first.Headers["X-Mailroom-Signature"], first.Body, rotated, now));
        Assert.True(MailroomWebhookVerifier.Verify(first.Headers["X-Mailroom-Signature"], first.Body, old, now));
        _host.Clock.Advance(TimeSpan.FromHours(25));
        await SuppressAsync(t, "b@example.net");
        await RoundAsync();
        var second = _receiver.At("/rot")[1];
        now = _host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(second.Headers["X-Mailroom-Signature"], second.Body, rotated, now));
        Assert.False(MailroomWebhookVerifier.Verify(second.Headers["X-Mailroom-Signature"], second.Body, old, now));
    }

    [Fact]
    public async Task ReplayReturnsTheSamePayloadsInAStableOrderWithACursor()
    {
        var t = await _host.CreateTenantAsync();
        await CreateHookAsync(t, _receiver.BaseUrl + "/replay");
        foreach (var e in new[] { "a@example.net", "b@example.net", "c@example.net" })
            await SuppressAsync(t, e);
        await RoundAsync();
        var page1 = await t.ServerApi.GetAsync("/events?count=2").OkJson();
        var events = page1.GetProperty("Events").EnumerateArray().ToList();
        Assert.Equal(2, events.Count);
        var cursor = page1.GetProperty("NextCursor").GetInt64();
        var page2 = await t.ServerApi.GetAsync($"/events?after={cursor}&count=2").OkJson();
        events.AddRange(page2.GetProperty("Events").EnumerateArray());
        Assert.Equal(["a@example.net", "b@example.net", "c@example.net"], events.Select(e => e.GetProperty("Recipient").GetString()));
        Assert.Equal(_receiver.At("/replay").Select(r => r.Body).Order(), events.Select(e => e.GetRawText()).Order());
        Assert.Empty((await t.ServerApi.GetAsync($"/events?after={page2.GetProperty("NextCursor").GetInt64()}").OkJson()).GetProperty("Events").EnumerateArray());
        Assert.Equal(3, (await t.ServerApi.GetAsync("/events?RecordType=SubscriptionChange&MessageStream=outbound").OkJson()).GetProperty("Events").GetArrayLength());
        Assert.Equal(0, (await t.ServerApi.GetAsync("/events?RecordType=Delivery").OkJson()).GetProperty("Events").GetArrayLength());
    }
}

/// <summary>Destinations refused at send time (no --allow-private-webhooks): the check is where the socket connects.</summary>
public sealed class WebhookDestinationTests : IAsyncLifetime
{
    private MailroomHost _host = null!;
    private WebhookReceiver _receiver = null!;
    private TestDnsServer _dns = null!;

    public async ValueTask InitializeAsync()
    {
        _dns = TestDnsServer.Start();
        _receiver = await WebhookReceiver.StartAsync();
        _host = await MailroomHost.StartAsync(tweak: s => s with { Dns = _dns.Address });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        _dns.Dispose();
    }

    [Theory]
    [InlineData("rebind.example.com", "10.0.0.1")]
    [InlineData("meta.example.com", "169.254.169.254")]
    [InlineData("loop.example.com", "127.0.0.1")]
    public async Task ANameResolvingToARefusedAddressIsAcceptedAtCreateAndRefusedAtSend(string name, string address)
    {
        var t = await _host.CreateTenantAsync();
        var port = new Uri(_receiver.BaseUrl).Port;
        var id = (await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = $"http://{name}:{port}/hook", Triggers = new { SubscriptionChange = new { Enabled = true } } }).OkJson())
            .GetProperty("ID").GetInt32();
        _dns.AddA(name, System.Net.IPAddress.Parse(address));
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", new { Suppressions = new[] { new { EmailAddress = "x@example.net" } } }).OkJson();
        Assert.Equal(1, await _host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None));
        Assert.Empty(_receiver.Received);
        var a = Assert.Single((await t.ServerApi.GetAsync($"/webhooks/{id}/attempts").OkJson()).GetProperty("Attempts").EnumerateArray());
        Assert.Equal("Dropped", a.GetProperty("Outcome").GetString());
        Assert.Contains(address, a.GetProperty("Error").GetString());
        Assert.Contains("--allow-private-webhooks", a.GetProperty("Error").GetString());
    }

    [Fact]
    public void PolicyRefusesPrivateRangesAndAllowsPublicOnes()
    {
        foreach (var refused in new[] { "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "169.254.169.254",
                     "224.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1", "ff02::1" })
            Assert.True(WebhookDestinations.IsRefused(System.Net.IPAddress.Parse(refused)), refused);
        foreach (var allowed in new[] { "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8" })
            Assert.False(WebhookDestinations.IsRefused(System.Net.IPAddress.Parse(allowed)), allowed);
    }
}
