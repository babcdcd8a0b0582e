using Mailroom.Core.Webhooks;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// The dispatcher against a real loopback receiver: headers, auth, signature, Postmark's retry table on a fake clock,
/// 4xx dropped, redirects, refused destinations at send time, attempts in the API, tenant isolation. Events come from
/// the Suppressions API (SubscriptionChange); rounds are driven by hand (role api: no worker runs).
/// </summary>
public sealed class WebhookDispatchTests() : WebhookHostTests(allowPrivate: true)
{
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

    [Fact]
    public async Task PostsTheSubscriptionChangePayloadSignedWithHeadersAndBasicAuth()
    {
        var t = await Host.CreateTenantAsync();
        var (_, secret) = await CreateHookAsync(t, Receiver.BaseUrl + "/a", new { Username = "hook", Password = "pw:1" });
        await SuppressAsync(t, "Someone@Example.net");
        Assert.Equal(1, await RoundAsync());
        var got = Assert.Single(Receiver.At("/a"));
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
        var now = Host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, secret, now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body + " ", secret, now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, "whsec_other", now));
        Assert.False(MailroomWebhookVerifier.Verify(got.Headers["X-Mailroom-Signature"], got.Body, secret, now + 3600));

        // Reactivation: SuppressSending false, no reason.
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete", new { Suppressions = new[] { new { EmailAddress = "someone@example.net" } } }).OkJson();
        Assert.Equal(1, await RoundAsync());
        var back = JsonDocument.Parse(Receiver.At("/a")[1].Body).RootElement;
        Assert.False(back.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal(JsonValueKind.Null, back.GetProperty("SuppressionReason").ValueKind);
    }

    [Fact]
    public async Task TheRetentionJobPurgesOldEventsDeliveriesAndAttemptsButNotPendingOnes()
    {
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl + "/r");
        foreach (var email in new[] { "a1@example.net", "a2@example.net", "a3@example.net" })
            await SuppressAsync(t, email);
        Assert.Equal(3, await RoundAsync());
        await SuppressAsync(t, "pending@example.net"); // old, never posted: must survive the purge
        Host.Clock.Advance(TimeSpan.FromDays(40));
        await SuppressAsync(t, "young@example.net");
        Host.Clock.Advance(TimeSpan.FromDays(6)); // the first four are now past the 45-day retention
        await Host.ScopedAsync(sp => sp.GetRequiredService<Mailroom.Core.Queue.MessageRetention>().PurgeAsync());

        var (events, deliveries, attempts) = await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            return (await db.WebhookEvents.CountAsync(e => e.ServerId == t.Server.ID),
                await db.WebhookDeliveries.CountAsync(d => d.ServerId == t.Server.ID),
                await db.WebhookAttempts.CountAsync(a => a.ServerId == t.Server.ID));
        });
        Assert.Equal((2, 2, 0), (events, deliveries, attempts));
        var (replay, _) = await PageAsync(t, "count=10", 2);
        Assert.Equal(["pending@example.net", "young@example.net"], replay.Select(e => e.GetProperty("Recipient").GetString()));
        // The old pending event is still posted.
        Assert.Equal(2, await RoundAsync());
        Assert.Contains(Receiver.At("/r"), r => r.Body.Contains("pending@example.net"));
    }

    [Fact]
    public async Task WebhookPurgeWorksInBatchesUntilNothingOldIsLeft()
    {
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl + "/b");
        for (var i = 0; i < 5; i++)
            await SuppressAsync(t, $"b{i}@example.net");
        Assert.Equal(5, await RoundAsync());
        var cutoff = Host.Clock.GetUtcNow().AddMinutes(1).ToUnixTimeMilliseconds();
        var purged = await Host.ScopedAsync(sp => WebhookRetention.PurgeAsync(sp.GetRequiredService<MailroomDb>(), cutoff, CancellationToken.None, batch: 2));
        Assert.Equal(5, purged);
        Assert.Equal(0, await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookEvents.CountAsync(e => e.ServerId == t.Server.ID)));
    }

    [Fact]
    public async Task UserinfoInTheUrlGivesBasicAuth()
    {
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl.Replace("http://", "http://u%40x:p%3A@") + "/ui");
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u@x:p:")), Assert.Single(Receiver.At("/ui")).Headers["Authorization"]);
    }

    [Fact]
    public async Task AReceiverThatFailsThreeTimesGetsTheEventAFourthTimeOnPostmarksSchedule()
    {
        var t = await Host.CreateTenantAsync();
        var (id, _) = await CreateHookAsync(t, Receiver.BaseUrl + "/flaky");
        Receiver.Respond = (_, n) => (n <= 3 ? 500 : 200, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(0, await RoundAsync()); // not due yet
        Host.Clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(0, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromSeconds(1)); // 1 min
        Assert.Equal(1, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromMinutes(1)); // 5 min
        Assert.Equal(1, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RoundAsync()); // delivered: nothing more
        var got = Receiver.At("/flaky");
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
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl + "/down");
        Receiver.Respond = (_, _) => (503, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        foreach (var delay in WebhookRetrySchedule.Delays)
        {
            Host.Clock.Advance(delay - TimeSpan.FromSeconds(1));
            Assert.Equal(0, await RoundAsync());
            Host.Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await RoundAsync());
        }
        Host.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await RoundAsync());
        Assert.Equal(7, Receiver.At("/down").Count);
        Assert.Equal(["1", "5", "10", "10", "10", "15"], WebhookRetrySchedule.Delays.Select(d => d.TotalMinutes.ToString()));
        var row = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookDeliveries.AsNoTracking().SingleAsync());
        Assert.Equal(WebhookDeliveryState.Failed, row.State);
    }

    [Theory]
    [InlineData(408)]
    [InlineData(429)]
    [InlineData(502)]
    public async Task RetryableStatusesAreRetried(int status)
    {
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl + "/r");
        Receiver.Respond = (_, n) => (n == 1 ? status : 200, null);
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        Host.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(2, Receiver.At("/r").Count);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(410)]
    public async Task Other4xxAreDroppedWithoutRetry(int status)
    {
        var t = await Host.CreateTenantAsync();
        var (id, _) = await CreateHookAsync(t, Receiver.BaseUrl + "/gone");
        Receiver.Respond = (_, _) => (status, null);
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(1, await RoundAsync());
        Host.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await RoundAsync());
        Assert.Single(Receiver.At("/gone"));
        var a = Assert.Single((await t.ServerApi.GetAsync($"/webhooks/{id}/attempts").OkJson()).GetProperty("Attempts").EnumerateArray());
        Assert.Equal("Dropped", a.GetProperty("Outcome").GetString());
    }

    [Fact]
    public async Task RedirectsAreFollowedWithTheBodyUpToTen()
    {
        var t = await Host.CreateTenantAsync();
        await CreateHookAsync(t, Receiver.BaseUrl + "/moved");
        await CreateHookAsync(t, Receiver.BaseUrl + "/loop");
        Receiver.Respond = (path, _) => path switch
        {
            "/moved" => (307, "/final"),
            "/loop" => (302, "/loop"),
            _ => (200, null),
        };
        await SuppressAsync(t, "a@example.net");
        Assert.Equal(2, await RoundAsync());
        var final = Assert.Single(Receiver.At("/final"));
        Assert.Contains("SubscriptionChange", final.Body);
        Assert.Equal(11, Receiver.At("/loop").Count); // the first POST and 10 redirects, then dropped
        Host.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RoundAsync());
    }

    [Fact]
    public async Task EventsOfServerANeverReachServerBsEndpoint()
    {
        var a = await Host.CreateTenantAsync("A");
        var b = await Host.CreateTenantAsync("B");
        await CreateHookAsync(a, Receiver.BaseUrl + "/tenant-a");
        await CreateHookAsync(b, Receiver.BaseUrl + "/tenant-b");
        await SuppressAsync(a, "only-a@example.net");
        await RoundAsync();
        Assert.Single(Receiver.At("/tenant-a"));
        Assert.Empty(Receiver.At("/tenant-b"));
        var replayB = await b.ServerApi.GetAsync("/events").OkJson();
        Assert.Empty(replayB.GetProperty("Events").EnumerateArray());
    }

    [Fact]
    public async Task ASlowEndpointNeverDelaysAnotherHostsWebhooks()
    {
        // Two customers, two host names on the same loopback receiver: A's endpoint holds every request open until the
        // test lets it answer (a slow or hanging endpoint), B's answers at once.
        var port = new Uri(Receiver.BaseUrl).Port;
        DnsServer.AddA("slow.hooks.example.com", System.Net.IPAddress.Loopback);
        DnsServer.AddA("fast.hooks.example.com", System.Net.IPAddress.Loopback);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.Hold = path => path == "/slow" ? release.Task : Task.CompletedTask;
        var a = await Host.CreateTenantAsync("A");
        var b = await Host.CreateTenantAsync("B");
        await CreateHookAsync(a, $"http://slow.hooks.example.com:{port}/slow");
        var (bHook, _) = await CreateHookAsync(b, $"http://fast.hooks.example.com:{port}/fast");
        // A's events are older, so they come first in every claim; more of them than A may have in flight.
        const int events = 20;
        await a.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = Enumerable.Range(0, events).Select(i => new { EmailAddress = $"a{i}@example.net" }).ToArray() }).OkJson();
        await b.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = Enumerable.Range(0, events).Select(i => new { EmailAddress = $"b{i}@example.net" }).ToArray() }).OkJson();

        var dispatcher = Host.App.Services.GetRequiredService<WebhookDispatcher>();
        var perHost = Host.App.Services.GetRequiredService<WebhookOptions>().MaxConcurrencyPerHost;
        using var stop = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(stop.Token);
        try
        {
            // A's slots are all taken by requests that do not answer...
            await Eventually.True(() => Task.FromResult(Receiver.At("/slow").Count == perHost), because: "A's endpoint holds its per-host limit");
            // ...and meanwhile every one of B's events is posted and its outcome recorded (visible through the API).
            await Eventually.True(() => Task.FromResult(Receiver.At("/fast").Count == events), because: "B's events arrive while A's endpoint hangs");
            await Eventually.True(async () =>
                (await b.ServerApi.GetAsync($"/webhooks/{bHook}/attempts").OkJson()).GetProperty("Attempts").GetArrayLength() == events,
                because: "B's attempts are recorded while A's endpoint hangs");
            // A got no more than its limit: the hanging endpoint held its own slots, not B's.
            Assert.Equal(perHost, Receiver.At("/slow").Count);

            release.SetResult();
            await Eventually.True(() => Task.FromResult(Receiver.At("/slow").Count == events), because: "A's events follow once it answers");
            Assert.Equal(events, Receiver.At("/slow").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Recipient").GetString()).Distinct().Count());
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
        var t = await Host.CreateTenantAsync();
        var (id, old) = await CreateHookAsync(t, Receiver.BaseUrl + "/rot");
        var rotated = (await t.ServerApi.PostAsync($"/webhooks/{id}/secret/rotate", null).OkJson()).GetProperty("SigningSecret").GetString()!;
        Assert.NotEqual(old, rotated);
        await SuppressAsync(t, "a@example.net");
        await RoundAsync();
        var first = Receiver.At("/rot")[0];
        var now = Host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(first.Headers["X-Mailroom-Signature"], first.Body, rotated, now));
        Assert.True(MailroomWebhookVerifier.Verify(first.Headers["X-Mailroom-Signature"], first.Body, old, now));
        Host.Clock.Advance(TimeSpan.FromHours(25));
        await SuppressAsync(t, "b@example.net");
        await RoundAsync();
        var second = Receiver.At("/rot")[1];
        now = Host.Clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.True(MailroomWebhookVerifier.Verify(second.Headers["X-Mailroom-Signature"], second.Body, rotated, now));
        Assert.False(MailroomWebhookVerifier.Verify(second.Headers["X-Mailroom-Signature"], second.Body, old, now));
    }
}
