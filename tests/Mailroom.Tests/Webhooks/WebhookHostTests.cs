using Mailroom.Cli;
using Mailroom.Core.Webhooks;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// A host with a loopback webhook receiver and a loopback DNS server (for endpoint names), webhook rounds driven by
/// hand. <paramref name="allowPrivate"/> lets the dispatcher post to loopback endpoints (--allow-private-webhooks);
/// without it the send-time destination check refuses them.
/// </summary>
public abstract class WebhookHostTests(bool allowPrivate) : HostTests
{
    protected WebhookReceiver Receiver { get; private set; } = null!;
    protected TestDnsServer DnsServer { get; private set; } = null!;

    private protected override MailroomSettings Fixture(MailroomSettings settings) =>
        settings with { AllowPrivateWebhooks = allowPrivate, Dns = DnsServer.Address };

    public override async ValueTask InitializeAsync()
    {
        DnsServer = TestDnsServer.Start();
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        DnsServer.Dispose();
    }

    /// <summary>A suppression made through the API: its SubscriptionChange event is written in the same transaction.</summary>
    protected static Task SuppressAsync(Tenant t, string email) =>
        t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", new { Suppressions = new[] { new { EmailAddress = email } } }).OkJson();

    /// <summary>GET /events?{query}, again until the page holds <paramref name="wanted"/> events (30 s at most): on
    /// PostgreSQL an event is replayed once every write transaction that began before it has ended, and other test
    /// hosts' transactions share the PostgreSQL server.</summary>
    protected static async Task<(List<JsonElement> Events, string Cursor)> PageAsync(Tenant t, string query, int wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var page = await t.ServerApi.GetAsync("/events?" + query).OkJson();
            var events = page.GetProperty("Events").EnumerateArray().ToList();
            if (events.Count >= wanted || DateTime.UtcNow > deadline)
                return (events, page.GetProperty("NextCursor").GetString()!);
            await Task.Delay(100);
        }
    }

    /// <summary>One dispatcher round: how many webhook deliveries it handled.</summary>
    protected Task<int> RoundAsync() => Host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);
}
