using System.Globalization;
using System.Text.RegularExpressions;

namespace Mailroom.Tests.Webhooks;

/// <summary>The webhook backlog on /metrics: deliveries waiting to be posted and the age of the oldest.</summary>
public sealed class WebhookBacklogMetricsTests
{
    [Fact]
    public async Task MetricsShowPendingWebhookDeliveriesAndTheOldestAge()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Metrics = "on", AllowPrivateWebhooks = true });
        var t = await host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = receiver.BaseUrl + "/m", Triggers = new { SubscriptionChange = new { Enabled = true } },
        }).OkJson();
        foreach (var email in new[] { "one@example.net", "two@example.net" })
        {
            await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
                new { Suppressions = new[] { new { EmailAddress = email } } }).OkJson();
            host.Clock.Advance(TimeSpan.FromSeconds(45));
        }

        // Role api: no worker posts them, so both wait; the first was written 90 s ago on the injected clock.
        var text = await host.Client().GetStringAsync("/metrics");
        Assert.Matches("""(?m)^mailroom_webhooks_pending(\{[^}]*\})? 2$""", text);
        var age = Regex.Match(text, """(?m)^mailroom_webhooks_oldest_age_seconds(\{[^}]*\})? ([0-9.eE+]+)$""");
        Assert.True(age.Success, "mailroom_webhooks_oldest_age_seconds is exported");
        Assert.Equal(90, double.Parse(age.Groups[2].Value, CultureInfo.InvariantCulture), 0.5);
    }

    [Fact]
    public async Task MetricsCountWebhookPostsByOutcome()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, n) => (n == 1 ? 500 : 200, null);
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Metrics = "on", AllowPrivateWebhooks = true });
        var t = await host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = receiver.BaseUrl + "/m", Triggers = new { SubscriptionChange = new { Enabled = true } },
        }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = new[] { new { EmailAddress = "one@example.net" } } }).OkJson();
        var dispatcher = host.App.Services.GetRequiredService<Mailroom.Core.Webhooks.WebhookDispatcher>();

        await dispatcher.RunOnceAsync(CancellationToken.None); // 500: a retry
        host.Clock.Advance(TimeSpan.FromMinutes(2));
        await dispatcher.RunOnceAsync(CancellationToken.None); // 200: done

        // Counters are process-wide (other tests post too): each outcome line is there with at least this test's post.
        var text = await host.Client().GetStringAsync("/metrics");
        foreach (var outcome in new[] { "retry", "done" })
        {
            var line = Regex.Match(text, $$"""(?m)^mailroom_webhooks_attempts_total\{(?=[^}]*outcome="{{outcome}}")(?=[^}]*record_type="SubscriptionChange")[^}]*\} ([0-9.eE+]+)""");
            Assert.True(line.Success, $"no {outcome} line in:\n{text}");
            Assert.True(double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture) >= 1);
        }
    }
}
