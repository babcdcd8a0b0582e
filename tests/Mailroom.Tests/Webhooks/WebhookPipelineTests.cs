using Mailroom.Cli;
using Mailroom.Core.Webhooks;
using MailKit.Net.Smtp;
using MimeKit;
using static Mailroom.Tests.Infrastructure.ReportMail;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// Every record type through the real pipeline to a loopback receiver: send → the sink accepts → Delivery; the sink
/// answers 550 → Bounce (+ SubscriptionChange); an ARF report at the MX listener → SpamComplaint; 72 h of 4xx → the
/// give-up Bounce; the server's legacy BounceHookUrl. Stages are driven by hand (roles api and mx).
/// </summary>
public sealed class WebhookPipelineTests() : RelayedHostTests(mx: true, sinkTls: false)
{
    private WebhookReceiver _receiver = null!;

    protected override MailroomSettings Configure(MailroomSettings settings) => settings with { AllowPrivateWebhooks = true };

    public override async ValueTask InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private Task<int> WebhooksAsync() => Host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);

    private async Task<Tenant> TenantWithHookAsync(string path)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = _receiver.BaseUrl + path,
            Triggers = new
            {
                Delivery = new { Enabled = true },
                Bounce = new { Enabled = true, IncludeContent = true },
                SpamComplaint = new { Enabled = true, IncludeContent = true },
                SubscriptionChange = new { Enabled = true },
            },
        }).OkJson();
        return t;
    }

    private static async Task<Guid> SendAsync(Tenant t, string to) =>
        Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = to, Subject = "Hello", TextBody = "Hi", Tag = "welcome",
            Metadata = new Dictionary<string, string> { ["order"] = "42" },
        }).OkJson()).GetProperty("MessageID").GetString()!);

    private List<JsonElement> Bodies(string path) => _receiver.At(path).Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();

    [Fact]
    public async Task AnAcceptedMessageIsADeliveryPayload()
    {
        var t = await TenantWithHookAsync("/d");
        var id = await SendAsync(t, "ok@example.net");
        await RunPipelineAsync();
        Assert.Equal(1, await WebhooksAsync());
        var d = Assert.Single(Bodies("/d"));
        Assert.Equal(["RecordType", "ServerID", "MessageStream", "MessageID", "Recipient", "Tag", "DeliveredAt", "Details", "Metadata"],
            d.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Delivery", d.GetProperty("RecordType").GetString());
        Assert.Equal(t.Server.ID, d.GetProperty("ServerID").GetInt32());
        Assert.Equal("outbound", d.GetProperty("MessageStream").GetString());
        Assert.Equal(id.ToString(), d.GetProperty("MessageID").GetString());
        Assert.Equal("ok@example.net", d.GetProperty("Recipient").GetString());
        Assert.Equal("welcome", d.GetProperty("Tag").GetString());
        Assert.Equal("2026-11-29T12:00:00.0000000Z", d.GetProperty("DeliveredAt").GetString());
        Assert.StartsWith("250", d.GetProperty("Details").GetString());
        Assert.Equal("42", d.GetProperty("Metadata").GetProperty("order").GetString());
    }

    [Fact]
    public async Task A550IsABouncePayloadWithItsIdAndASubscriptionChange()
    {
        var t = await TenantWithHookAsync("/b");
        Sink.RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 <gone@example.net>: Recipient address rejected: User unknown") : null;
        var id = await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        Assert.Equal(2, await WebhooksAsync());
        var bodies = Bodies("/b");
        var b = Assert.Single(bodies, x => x.GetProperty("RecordType").GetString() == "Bounce");
        var bounces = await t.ServerApi.GetAsync("/bounces?count=10&offset=0").OkJson();
        var stored = Assert.Single(bounces.GetProperty("Bounces").EnumerateArray());
        Assert.Equal(stored.GetProperty("ID").GetInt64(), b.GetProperty("ID").GetInt64());
        Assert.True(b.GetProperty("ID").GetInt64() > 0);
        Assert.Equal(["RecordType", "ID", "Type", "TypeCode", "Name", "Tag", "MessageID", "Metadata", "ServerID", "MessageStream", "Description",
            "Details", "Email", "From", "BouncedAt", "DumpAvailable", "Inactive", "CanActivate", "Subject", "Content"], b.EnumerateObject().Select(p => p.Name));
        foreach (var field in new[] { "Type", "TypeCode", "Name", "Tag", "MessageID", "ServerID", "MessageStream", "Description", "Details", "Email", "From", "DumpAvailable", "Inactive", "CanActivate", "Subject" })
            Assert.Equal(stored.GetProperty(field).GetRawText(), b.GetProperty(field).GetRawText());
        Assert.Equal("HardBounce", b.GetProperty("Type").GetString());
        Assert.Equal(id.ToString(), b.GetProperty("MessageID").GetString());
        Assert.Equal("42", b.GetProperty("Metadata").GetProperty("order").GetString());
        Assert.True(b.GetProperty("Inactive").GetBoolean());
        var s = Assert.Single(bodies, x => x.GetProperty("RecordType").GetString() == "SubscriptionChange");
        Assert.Equal("Recipient", s.GetProperty("Origin").GetString());
        Assert.Equal("HardBounce", s.GetProperty("SuppressionReason").GetString());
        Assert.True(s.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal(id.ToString(), s.GetProperty("MessageID").GetString());
        Assert.Equal("welcome", s.GetProperty("Tag").GetString());
    }

    [Fact]
    public async Task BounceContentIsPostedOnlyWhenTheTriggerIncludesIt()
    {
        var t = await TenantWithHookAsync("/with");
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = _receiver.BaseUrl + "/without", Triggers = new { Bounce = new { Enabled = true } } }).OkJson();
        Sink.RecipientReply = _ => (550, "5.1.1 unknown");
        await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        await WebhooksAsync();
        Assert.True(Bodies("/with").Single(x => x.GetProperty("RecordType").GetString() == "Bounce").TryGetProperty("Content", out _));
        Assert.False(Assert.Single(Bodies("/without")).TryGetProperty("Content", out _));
    }

    [Fact]
    public async Task ActivatingAHardBounceIsASubscriptionChangeThatStopsSuppressing()
    {
        var t = await TenantWithHookAsync("/a");
        Sink.RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 User unknown") : null;
        await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        Assert.Equal(2, await WebhooksAsync()); // Bounce, SubscriptionChange (SuppressSending true)
        var bounceId = Bodies("/a").Single(x => x.GetProperty("RecordType").GetString() == "Bounce").GetProperty("ID").GetInt64();

        var activated = await t.ServerApi.PutAsJsonAsync($"/bounces/{bounceId}/activate", new { }).OkJson();
        Assert.False(activated.GetProperty("Bounce").GetProperty("Inactive").GetBoolean());
        Assert.Equal(1, await WebhooksAsync());
        var changes = Bodies("/a").Where(x => x.GetProperty("RecordType").GetString() == "SubscriptionChange").ToList();
        Assert.Equal([true, false], changes.Select(c => c.GetProperty("SuppressSending").GetBoolean()));
        var reactivated = changes[1];
        Assert.Equal("gone@example.net", reactivated.GetProperty("Recipient").GetString());
        Assert.Equal("outbound", reactivated.GetProperty("MessageStream").GetString());
        Assert.Equal(JsonValueKind.Null, reactivated.GetProperty("SuppressionReason").ValueKind);
        // The address is no longer suppressed: the next message to it is delivered.
        Sink.RecipientReply = _ => null;
        await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        Assert.Equal(1, await WebhooksAsync());
        Assert.Equal("Delivery", Bodies("/a")[^1].GetProperty("RecordType").GetString());
    }

    [Fact]
    public async Task DeletingABounceSuppressionIsASubscriptionChangeThatStopsSuppressing()
    {
        var t = await TenantWithHookAsync("/s");
        Sink.RecipientReply = _ => (550, "5.1.1 User unknown");
        await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        Assert.Equal(2, await WebhooksAsync());
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete",
            new { Suppressions = new[] { new { EmailAddress = "gone@example.net" } } }).OkJson();
        Assert.Equal(1, await WebhooksAsync());
        var last = Bodies("/s")[^1];
        Assert.Equal("SubscriptionChange", last.GetProperty("RecordType").GetString());
        Assert.False(last.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal("gone@example.net", last.GetProperty("Recipient").GetString());
    }

    [Fact]
    public async Task AComplaintAtTheMxListenerIsASpamComplaintPayload()
    {
        var t = await TenantWithHookAsync("/c");
        var id = await SendAsync(t, "angry@example.net");
        await RunPipelineAsync();
        var delivered = Sink.Messages.Last();
        await SendToMxAsync(Arf(delivered.MailFrom, "angry@example.net", delivered.Data), delivered.MailFrom);
        await Eventually.True(async () =>
        {
            await WebhooksAsync();
            return Bodies("/c").Any(x => x.GetProperty("RecordType").GetString() == "SpamComplaint");
        });
        var c = Bodies("/c").Single(x => x.GetProperty("RecordType").GetString() == "SpamComplaint");
        Assert.Equal("SpamComplaint", c.GetProperty("Type").GetString());
        Assert.Equal(100001, c.GetProperty("TypeCode").GetInt32());
        Assert.True(c.GetProperty("Inactive").GetBoolean());
        Assert.False(c.GetProperty("CanActivate").GetBoolean());
        Assert.True(c.GetProperty("ID").GetInt64() > 0);
        Assert.Equal(id.ToString(), c.GetProperty("MessageID").GetString());
        Assert.Contains("feedback-report", c.GetProperty("Content").GetString());
        await Eventually.True(async () =>
        {
            await WebhooksAsync();
            return Bodies("/c").Any(x => x.GetProperty("RecordType").GetString() == "SubscriptionChange");
        });
        Assert.Equal("SpamComplaint", Bodies("/c").Single(x => x.GetProperty("RecordType").GetString() == "SubscriptionChange").GetProperty("SuppressionReason").GetString());
    }

    [Fact]
    public async Task GivingUpAfterTheMaximumAgeIsABouncePayloadWithTheBounceRowsId()
    {
        var t = await TenantWithHookAsync("/g");
        Sink.RecipientReply = _ => (451, "4.3.0 try later");
        await SendAsync(t, "slow@example.net");
        await RunPipelineAsync();
        Assert.Equal(0, await WebhooksAsync()); // a deferral is not an event of §10.5
        Host.Clock.Advance(TimeSpan.FromHours(73));
        await DeliverAsync();
        Assert.Equal(1, await WebhooksAsync());
        var b = Assert.Single(Bodies("/g"));
        Assert.Equal("Bounce", b.GetProperty("RecordType").GetString());
        Assert.Equal("SoftBounce", b.GetProperty("Type").GetString());
        Assert.Equal("slow@example.net", b.GetProperty("Email").GetString());
        Assert.Contains("4.3.0", b.GetProperty("Details").GetString());
        // The give-up is a bounce row of the Bounces API (soft: the address stays active) and the payload carries its ID.
        var stored = Assert.Single((await t.ServerApi.GetAsync("/bounces?count=10&offset=0").OkJson()).GetProperty("Bounces").EnumerateArray());
        Assert.True(b.GetProperty("ID").GetInt64() > 0);
        Assert.Equal(stored.GetProperty("ID").GetInt64(), b.GetProperty("ID").GetInt64());
        Assert.Equal("SoftBounce", stored.GetProperty("Type").GetString());
        Assert.False(stored.GetProperty("Inactive").GetBoolean());
    }

    [Fact]
    public async Task TheLegacyHookUrlsOfTheServerActAsAnImplicitOutboundWebhook()
    {
        var t = await Host.CreateTenantAsync();
        await t.AccountApi.PutAsJsonAsync($"/servers/{t.Server.ID}", new { BounceHookUrl = _receiver.BaseUrl + "/legacy-bounce", DeliveryHookUrl = _receiver.BaseUrl + "/legacy-delivery" }).OkJson();
        Sink.RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 unknown") : null;
        await SendAsync(t, "ok@example.net");
        await SendAsync(t, "gone@example.net");
        await RunPipelineAsync();
        await WebhooksAsync();
        Assert.Equal("Delivery", Assert.Single(Bodies("/legacy-delivery")).GetProperty("RecordType").GetString());
        var b = Assert.Single(Bodies("/legacy-bounce"));
        Assert.Equal("Bounce", b.GetProperty("RecordType").GetString());
        Assert.False(b.TryGetProperty("Content", out _)); // IncludeBounceContentInHook is off
    }
}
