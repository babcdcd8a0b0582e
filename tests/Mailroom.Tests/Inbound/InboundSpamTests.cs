using Mailroom.Core.Inbound;
using Mailroom.Core.Webhooks;
using Mailroom.Tests.Webhooks;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Inbound;

/// <summary>
/// Spam scores on arrival from a real SpamAssassin spamd: its verdict reaches the customer as X-Spam-Status, X-Spam-Score
/// and X-Spam-Tests in the payload's Headers, and a score at or over the server's InboundSpamThreshold blocks the message
/// (not posted; a bypass still posts it). GTUBE is SpamAssassin's own test string (score 1000).
/// </summary>
public sealed class InboundSpamTests : IAsyncLifetime
{
    private const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    private SpamdProcess _spamd = null!;
    private WebhookReceiver _receiver = null!;
    private MailroomHost _host = null!;
    private int _mxPort;

    public async ValueTask InitializeAsync()
    {
        _spamd = await SpamdProcess.StartAsync();
        _receiver = await WebhookReceiver.StartAsync();
        _mxPort = SmtpSink.FreeTcpPort();
        _host = await MailroomHost.StartAsync(tweak: s => s with
        {
            Roles = "api,mx", Mx = $"127.0.0.1:{_mxPort}", AllowPrivateWebhooks = true, InboundHost = "inbound.mailroom.test", Spamd = _spamd.Address,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        await _spamd.DisposeAsync();
    }

    private static MimeMessage Mail(string to, string subject, string text)
    {
        var m = new MimeMessage { Subject = subject, Date = DateTimeOffset.UtcNow, MessageId = $"{Guid.NewGuid():N}@sender.example" };
        m.From.Add(new MailboxAddress("Jane Doe", "jane@sender.example"));
        m.To.Add(MailboxAddress.Parse(to));
        m.Body = new TextPart("plain") { Text = text };
        return m;
    }

    private Task SendAsync(MimeMessage message, string rcpt) =>
        RemoteMta.SendAsync(_mxPort, message, "bounces@sender.example", rcpt, "mta.sender.example");

    private async Task<List<InboundMessage>> RowsAsync(int serverId) =>
        await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().InboundMessages.AsNoTracking().Where(m => m.ServerId == serverId).ToListAsync());

    private Task<int> RoundAsync() => _host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);

    [Fact]
    public async Task SpamdVerdictReachesTheCustomerAndTheThresholdBlocks()
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PutAsJsonAsync("/server", new { InboundHookUrl = _receiver.BaseUrl + "/in", InboundSpamThreshold = 5 }).OkJson();
        var address = t.Server.InboundAddress;

        await SendAsync(Mail(address, "Order question", "Where is my parcel? It was due on Monday.\n\nJane"), address);
        await Eventually.True(async () => (await RowsAsync(t.Server.ID)).Any(m => m.Status == InboundStatus.Queued), because: "the clean message is queued");
        Assert.Equal(1, await RoundAsync());
        var posted = System.Text.Json.JsonDocument.Parse(Assert.Single(_receiver.At("/in")).Body).RootElement;
        var headers = posted.GetProperty("Headers").EnumerateArray()
            .ToDictionary(h => h.GetProperty("Name").GetString()!, h => h.GetProperty("Value").GetString()!);
        Assert.StartsWith("No, score=", headers["X-Spam-Status"]);
        Assert.True(double.Parse(headers["X-Spam-Score"], System.Globalization.CultureInfo.InvariantCulture) < 5);

        await SendAsync(Mail(address, "Cheap watches", Gtube), address);
        await Eventually.True(async () => (await RowsAsync(t.Server.ID)).Any(m => m.Status == InboundStatus.Blocked), because: "the GTUBE message is blocked");
        Assert.Equal(0, await RoundAsync());
        Assert.Single(_receiver.At("/in"));
        var blocked = (await RowsAsync(t.Server.ID)).Single(m => m.Status == InboundStatus.Blocked);
        var details = await t.ServerApi.GetAsync($"/messages/inbound/{blocked.Id}/details").OkJson();
        Assert.StartsWith("Blocked as spam: score 10", details.GetProperty("BlockedReason").GetString());
        Assert.Contains(details.GetProperty("Headers").EnumerateArray(),
            h => h.GetProperty("Name").GetString() == "X-Spam-Tests" && h.GetProperty("Value").GetString()!.Contains("GTUBE"));

        // The customer may still want it: a bypass posts it.
        await t.ServerApi.PutAsync($"/messages/inbound/{blocked.Id}/bypass", null).OkJson();
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(2, _receiver.At("/in").Count);
    }
}
