using System.Text.RegularExpressions;
using Mailroom.Core.Delivery;
using Mailroom.Core.Identities;
using Mailroom.Core.Preparation;
using Mailroom.Core.Tracking;
using Mailroom.Core.Webhooks;
using Mailroom.Mail.Tracking;
using Mailroom.Tests.Webhooks;
using MimeKit;

namespace Mailroom.Tests.Tracking;

/// <summary>
/// Open and click tracking end to end: the API accepts a tracked message, Preparation puts the image and click URLs
/// in before signing, Delivery hands each recipient its own signed bytes at a loopback sink, python3-dkim verifies
/// them, and fetching the image and following links with real user agents records opens and clicks seen in the
/// opens/clicks lists, message details and a webhook receiver.
/// </summary>
public sealed partial class TrackingPipelineTests : IAsyncLifetime
{
    private const string IosMail = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
    private const string GmailProxy = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    private const string Chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    private const string Scanner = "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))";

    private SmtpSink _sink = null!;
    private MailroomHost _host = null!;
    private WebhookReceiver _receiver = null!;

    public async ValueTask InitializeAsync()
    {
        _sink = new SmtpSink(tls: false);
        _receiver = await WebhookReceiver.StartAsync();
        _host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{_sink.Port}", Roles = "api", AllowPrivateWebhooks = true });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sink.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private async Task DeliverAsync()
    {
        await _host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        await _host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);
    }

    private const string Html = """
        <html><body><h1>Spring sale</h1>
        <p><a href="https://shop.example/sale?utm=mail">See the sale</a> or <a href="mailto:help@shop.example">write to us</a>.</p>
        <p><a href="#terms">Terms</a> · <a href="{{{ pm:unsubscribe }}}">Unsubscribe</a> · <a href="https://shop.example/unsubscribe?u=1">Leave</a></p>
        </body></html>
        """;

    private static async Task<Guid> SendAsync(Tenant t, object to, string trackLinks = "HtmlAndText", bool trackOpens = true, string? html = Html) =>
        Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "Shop <shop@mailroom.test>", To = to, Subject = "Spring sale", Tag = "spring",
            HtmlBody = html, TextBody = "The sale: https://shop.example/sale?utm=mail. Questions: mailto:help@shop.example",
            TrackOpens = trackOpens, TrackLinks = trackLinks,
            Metadata = new Dictionary<string, string> { ["campaign"] = "spring" },
        }).OkJson()).GetProperty("MessageID").GetString()!);

    [GeneratedRegex("/t/o/([A-Za-z0-9_-]{48})")]
    private static partial Regex PixelPath();

    [GeneratedRegex("/t/c/([A-Za-z0-9_-]{48})")]
    private static partial Regex ClickPath();

    private static (string Html, string Text) Bodies(byte[] data)
    {
        var m = MimeMessage.Load(new MemoryStream(data));
        return (m.HtmlBody ?? "", m.TextBody ?? "");
    }

    /// <summary>Opens are written after the image is answered (EngagementRecorder's queue): polls the opens list until
    /// it holds <paramref name="count"/> opens, and answers it.</summary>
    private static async Task<JsonElement> OpensAsync(Tenant t, int count, string query = "")
    {
        JsonElement list = default;
        await Eventually.True(async () =>
        {
            list = await t.ServerApi.GetAsync("/messages/outbound/opens?count=50&offset=0" + query).OkJson();
            return list.GetProperty("TotalCount").GetInt32() >= count;
        }, because: $"{count} open(s) written");
        Assert.Equal(count, list.GetProperty("TotalCount").GetInt32());
        return list;
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string userAgent)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        return await _host.Client().SendAsync(request);
    }

    [Fact]
    public async Task DeliveredHtmlCarriesThePixelAndRewrittenLinksAndItsSignatureStillVerifies()
    {
        var t = await _host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var delivered = Assert.Single(_sink.Messages);
        var (html, text) = Bodies(delivered.Data);
        Assert.Single(PixelPath().Matches(html));
        Assert.Contains("<img src=\"http://mailroom.test/t/o/", html);
        Assert.Single(ClickPath().Matches(html)); // the sale link; not mailto, #terms, the placeholder or the unsubscribe link
        Assert.DoesNotContain("https://shop.example/sale", html);
        Assert.Contains("href=\"mailto:help@shop.example\"", html);
        Assert.Contains("href=\"#terms\"", html);
        Assert.Contains("href=\"{{{ pm:unsubscribe }}}\"", html);
        Assert.Contains("href=\"https://shop.example/unsubscribe?u=1\"", html);
        Assert.Single(ClickPath().Matches(text));
        Assert.DoesNotContain("/t/o/", text); // no image in a text part
        Assert.Contains("mailto:help@shop.example", text);

        // The wire carries the stored signed bytes, and the signature covers the rewritten bodies.
        var stored = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().Select(m => m.Mime).SingleAsync());
        Assert.Equal(stored, (byte[])[.. delivered.Data, (byte)'\r', (byte)'\n']);
        var key = await _host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());
        Assert.Equal("pass", await PythonDkim.VerifyAsync(delivered.Data, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(delivered.Data).Replace("/t/c/", "/t/x/"));
        Assert.Equal("fail", await PythonDkim.VerifyAsync(tampered, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
    }

    [Fact]
    public async Task EachRecipientGetsItsOwnSignedCopyWithItsOwnTokens()
    {
        var t = await _host.CreateTenantAsync();
        var id = await SendAsync(t, "jo@example.net, al@example.org");
        await DeliverAsync();
        Assert.Equal(2, _sink.Messages.Count);
        var jo = _sink.Messages.Single(m => m.Recipients.Contains("jo@example.net"));
        var al = _sink.Messages.Single(m => m.Recipients.Contains("al@example.org"));
        var joPixel = PixelPath().Match(Bodies(jo.Data).Html).Groups[1].Value;
        var alPixel = PixelPath().Match(Bodies(al.Data).Html).Groups[1].Value;
        Assert.NotEqual(joPixel, alPixel);
        var key = await _host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());
        foreach (var copy in new[] { jo, al })
            Assert.Equal("pass", await PythonDkim.VerifyAsync(copy.Data, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
        // Each copy went out as stored: the first recipient's is the message's, the other's its tracked copy.
        var copyBytes = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().TrackedCopies.AsNoTracking().Where(c => c.MessageId == id).Select(c => c.Mime).SingleAsync());
        Assert.Equal(copyBytes, (byte[])[.. al.Data, (byte)'\r', (byte)'\n']);

        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        (await GetAsync("/t/o/" + alPixel, IosMail)).EnsureSuccessStatusCode();
        await OpensAsync(t, 1);
        var opens = await t.ServerApi.GetAsync($"/messages/outbound/opens/{id}?count=10&offset=0").OkJson();
        Assert.Equal("al@example.org", Assert.Single(opens.GetProperty("Opens").EnumerateArray()).GetProperty("Recipient").GetString());
    }

    [Fact]
    public async Task OpeningAndClickingWithRealAgentsRecordsOpensAndClicksSeenInTheApiAndWebhooks()
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = _receiver.BaseUrl + "/engagement",
            Triggers = new { Open = new { Enabled = true, PostFirstOpenOnly = true }, Click = new { Enabled = true } },
        }).OkJson();
        var id = await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var (html, text) = Bodies(Assert.Single(_sink.Messages).Data);
        var pixel = PixelPath().Match(html).Groups[1].Value;
        var htmlLink = ClickPath().Match(html).Groups[1].Value;
        var textLink = ClickPath().Match(text).Groups[1].Value;
        _host.Clock.Advance(TimeSpan.FromMinutes(10));

        var image = await GetAsync("/t/o/" + pixel, IosMail);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/gif", image.Content.Headers.ContentType!.MediaType);
        Assert.Equal("GIF89a", Encoding.ASCII.GetString((await image.Content.ReadAsByteArrayAsync())[..6]));
        Assert.Contains("no-store", image.Headers.CacheControl!.ToString());
        _host.Clock.Advance(TimeSpan.FromMinutes(1));
        (await GetAsync("/t/o/" + pixel, GmailProxy)).EnsureSuccessStatusCode(); // a later open: recorded too
        var click = await GetAsync("/t/c/" + htmlLink, Chrome);
        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        Assert.Equal("https://shop.example/sale?utm=mail", click.Headers.Location!.OriginalString);
        var textClick = await GetAsync("/t/c/" + textLink, Chrome);
        Assert.Equal("https://shop.example/sale?utm=mail", textClick.Headers.Location!.OriginalString);

        var opens = await OpensAsync(t, 2);
        var list = opens.GetProperty("Opens").EnumerateArray().ToList();
        var first = list.Single(o => o.GetProperty("FirstOpen").GetBoolean());
        Assert.Equal(["RecordType", "FirstOpen", "Client", "OS", "Platform", "UserAgent", "ReadSeconds", "Geo", "MessageID", "MessageStream",
            "ReceivedAt", "Tag", "Recipient", "Machine"], first.EnumerateObject().Select(p => p.Name));
        Assert.Equal("Open", first.GetProperty("RecordType").GetString());
        Assert.Equal("Apple Mail", first.GetProperty("Client").GetProperty("Family").GetString());
        Assert.Equal("iOS", first.GetProperty("OS").GetProperty("Family").GetString());
        Assert.Equal("Mobile", first.GetProperty("Platform").GetString());
        Assert.Equal(IosMail, first.GetProperty("UserAgent").GetString());
        Assert.Equal(id.ToString(), first.GetProperty("MessageID").GetString());
        Assert.Equal("spring", first.GetProperty("Tag").GetString());
        Assert.Equal("jo@example.net", first.GetProperty("Recipient").GetString());
        Assert.False(first.GetProperty("Machine").GetBoolean());
        var later = list.Single(o => !o.GetProperty("FirstOpen").GetBoolean());
        Assert.Equal("Gmail", later.GetProperty("Client").GetProperty("Name").GetString());
        Assert.Equal("WebMail", later.GetProperty("Platform").GetString());
        Assert.False(later.GetProperty("Machine").GetBoolean()); // 11 minutes after delivery: a reader behind Gmail's proxy

        // Filters of spec §8.1.
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0&platform=Mobile").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0&client_family=gmail").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0&os_name=iOS%2017.1").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(2, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0&tag=spring&recipient=jo@").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(0, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0&tag=autumn").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=1&offset=1").OkJson()).GetProperty("Opens").GetArrayLength());
        await t.ServerApi.GetAsync("/messages/outbound/opens?count=501&offset=0").Error(422, 700);

        var clicks = await t.ServerApi.GetAsync($"/messages/outbound/clicks/{id}?count=10&offset=0").OkJson();
        Assert.Equal(2, clicks.GetProperty("TotalCount").GetInt32());
        var c = clicks.GetProperty("Clicks").EnumerateArray().ToList();
        Assert.Equal(["HTML", "Text"], c.Select(x => x.GetProperty("ClickLocation").GetString()).Order());
        Assert.All(c, x =>
        {
            Assert.Equal("Click", x.GetProperty("RecordType").GetString());
            Assert.Equal("https://shop.example/sale?utm=mail", x.GetProperty("OriginalLink").GetString());
            Assert.Equal("Chrome", x.GetProperty("Client").GetProperty("Family").GetString());
            Assert.Equal("Desktop", x.GetProperty("Platform").GetString());
        });
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/outbound/clicks?count=10&offset=0&platform=desktop&os_family=windows").OkJson())
            .GetProperty("Clicks").EnumerateArray().Count(x => x.GetProperty("ClickLocation").GetString() == "Text"));

        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        var types = details.GetProperty("MessageEvents").EnumerateArray().Select(e => e.GetProperty("Type").GetString()).ToList();
        Assert.Equal(["Delivered", "Opened", "LinkClicked", "LinkClicked"], types); // only the first open is an event there
        var clicked = details.GetProperty("MessageEvents").EnumerateArray().First(e => e.GetProperty("Type").GetString() == "LinkClicked");
        Assert.Equal("https://shop.example/sale?utm=mail", clicked.GetProperty("Details").GetProperty("Link").GetString());

        // Webhooks: the first open only (PostFirstOpenOnly), and both clicks.
        await _host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);
        var posted = _receiver.At("/engagement").Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        var open = Assert.Single(posted, p => p.GetProperty("RecordType").GetString() == "Open");
        Assert.True(open.GetProperty("FirstOpen").GetBoolean());
        Assert.Equal("spring", open.GetProperty("Metadata").GetProperty("campaign").GetString());
        Assert.False(open.TryGetProperty("ServerID", out _));
        Assert.Equal(2, posted.Count(p => p.GetProperty("RecordType").GetString() == "Click"));
    }

    [Fact]
    public async Task ForgedOrAlteredTokensAreRefusedAndRecordNothing()
    {
        var t = await _host.CreateTenantAsync();
        var id = await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var (html, _) = Bodies(Assert.Single(_sink.Messages).Data);
        var pixel = PixelPath().Match(html).Groups[1].Value;
        var link = ClickPath().Match(html).Groups[1].Value;
        var altered = link[..20] + (link[20] == 'A' ? 'B' : 'A') + link[21..];

        var refused = await GetAsync("/t/c/" + altered, Chrome);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Null(refused.Headers.Location);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/t/c/" + pixel, Chrome)).StatusCode); // an open token is no click token
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/t/c/not-a-token", Chrome)).StatusCode);
        // Signed with the real key but naming a link the message does not have: still no redirect.
        var signer = await _host.App.Services.GetRequiredService<TrackingKeyring>().SignerAsync(CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/t/c/" + signer.Click(id, 0, 99), Chrome)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync("/t/c/" + signer.Click(Guid.NewGuid(), 0, 0), Chrome)).StatusCode);
        // A bad image token still gets the image (a mail client shows no error), and nothing is recorded.
        var image = await GetAsync("/t/o/" + pixel[..47] + (pixel[47] == 'A' ? 'B' : 'A'), IosMail);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/gif", image.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/t/o/x", IosMail)).StatusCode);

        Assert.Equal(0, (await t.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(0, (await t.ServerApi.GetAsync("/messages/outbound/clicks?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task OneServersOpensAndClicksAreInvisibleToAnother()
    {
        var a = await _host.CreateTenantAsync("A");
        var b = await _host.CreateTenantAsync("B");
        var id = await SendAsync(a, "jo@example.net");
        await DeliverAsync();
        var (html, _) = Bodies(Assert.Single(_sink.Messages).Data);
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        (await GetAsync("/t/o/" + PixelPath().Match(html).Groups[1].Value, IosMail)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync("/t/c/" + ClickPath().Match(html).Groups[1].Value, Chrome)).StatusCode);

        await OpensAsync(a, 1);
        Assert.Equal(0, (await b.ServerApi.GetAsync("/messages/outbound/opens?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal(0, (await b.ServerApi.GetAsync("/messages/outbound/clicks?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        await b.ServerApi.GetAsync($"/messages/outbound/opens/{id}?count=10&offset=0").Error(422, 701);
        await b.ServerApi.GetAsync($"/messages/outbound/clicks/{id}?count=10&offset=0").Error(422, 701);
    }

    [Fact]
    public async Task PrefetchesAndLinkScannersAreKeptAndMarkedMachine()
    {
        var t = await _host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var (html, _) = Bodies(Assert.Single(_sink.Messages).Data);
        var pixel = PixelPath().Match(html).Groups[1].Value;
        var link = ClickPath().Match(html).Groups[1].Value;
        _host.Clock.Advance(TimeSpan.FromSeconds(2));
        (await GetAsync("/t/o/" + pixel, GmailProxy)).EnsureSuccessStatusCode(); // the proxy fetching on arrival
        (await GetAsync("/t/o/" + pixel, "Mozilla/5.0")).EnsureSuccessStatusCode(); // Apple Mail Privacy Protection
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync("/t/c/" + link, Scanner)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync("/t/c/" + link, Chrome)).StatusCode); // 2 s after delivery: a scanner
        _host.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync("/t/c/" + link, Chrome)).StatusCode); // a person

        var opens = (await OpensAsync(t, 2)).GetProperty("Opens").EnumerateArray().ToList();
        Assert.All(opens, o => Assert.True(o.GetProperty("Machine").GetBoolean()));
        var clicks = (await t.ServerApi.GetAsync("/messages/outbound/clicks?count=10&offset=0").OkJson()).GetProperty("Clicks").EnumerateArray().ToList();
        Assert.Equal([false, true, true], clicks.Select(c => c.GetProperty("Machine").GetBoolean())); // newest first
    }

    [Fact]
    public async Task QueuedOpensAreAllWrittenWhenTheRecorderStops()
    {
        var t = await _host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var pixel = PixelPath().Match(Bodies(Assert.Single(_sink.Messages).Data).Html).Groups[1].Value;
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        var fetches = Enumerable.Range(0, 200).Select(async _ => (await GetAsync("/t/o/" + pixel, IosMail)).EnsureSuccessStatusCode());
        await Task.WhenAll(fetches);

        // A graceful stop disposes the recorder, which drains its queue before it returns.
        await _host.App.Services.GetRequiredService<EngagementRecorder>().DisposeAsync();
        var (opens, firsts) = await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            return (await db.EngagementEvents.CountAsync(e => e.Kind == EngagementKind.Open),
                await db.EngagementEvents.CountAsync(e => e.Kind == EngagementKind.Open && e.FirstOpen));
        });
        Assert.Equal(200, opens);
        Assert.Equal(1, firsts);
        var stats = await t.ServerApi.GetAsync("/stats/outbound/opens").OkJson();
        Assert.Equal(200, stats.GetProperty("Opens").GetInt32());
        Assert.Equal(1, stats.GetProperty("Unique").GetInt32());
    }

    [Fact]
    public async Task ARecipientsEarlierOpenIsFoundInTheDatabaseByAWriterThatNeverSawIt()
    {
        var t = await _host.CreateTenantAsync();
        var id = await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        var html = Bodies(Assert.Single(_sink.Messages).Data).Html;
        var pixel = PixelPath().Match(html).Groups[1].Value;
        var link = ClickPath().Match(html).Groups[1].Value;
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        (await GetAsync("/t/o/" + pixel, IosMail)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync("/t/c/" + link, Chrome)).StatusCode);
        await OpensAsync(t, 1);

        // A second recorder (as after a restart): it remembers nothing, so it must ask the database.
        await using var fresh = ActivatorUtilities.CreateInstance<EngagementRecorder>(_host.App.Services);
        Assert.True(await fresh.RecordOpenAsync(new EngagementRequest(pixel, IosMail, IPAddress.Loopback), CancellationToken.None));
        Assert.Equal("https://shop.example/sale?utm=mail", await fresh.RecordClickAsync(new EngagementRequest(link, Chrome, IPAddress.Loopback), CancellationToken.None));
        var opens = (await OpensAsync(t, 2)).GetProperty("Opens").EnumerateArray().ToList();
        Assert.Single(opens, o => o.GetProperty("FirstOpen").GetBoolean());
        var stats = await t.ServerApi.GetAsync("/stats/outbound/opens").OkJson();
        Assert.Equal(1, stats.GetProperty("Unique").GetInt32());
        var clicks = await t.ServerApi.GetAsync("/stats/outbound/clicks").OkJson();
        Assert.Equal(2, clicks.GetProperty("Clicks").GetInt32());
        Assert.Equal(1, clicks.GetProperty("Unique").GetInt32());
        Assert.Equal(2, (await t.ServerApi.GetAsync($"/messages/outbound/clicks/{id}?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
    }

    private async Task<(Tenant Tenant, string Pixel)> ReadTimeSetupAsync()
    {
        await _host.DisposeAsync();
        _host = await MailroomHost.StartAsync(tweak: s => s with
        {
            Relay = $"127.0.0.1:{_sink.Port}", Roles = "api", AllowPrivateWebhooks = true, TrackReadTime = true,
        });
        return await TrackedMessageAsync();
    }

    /// <summary>A tenant whose tracked message to jo@example.net was delivered 10 minutes ago, and its image token.</summary>
    private async Task<(Tenant Tenant, string Pixel)> TrackedMessageAsync()
    {
        var t = await _host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        return (t, PixelPath().Match(Bodies(Assert.Single(_sink.Messages).Data).Html).Groups[1].Value);
    }

    [Fact]
    public async Task ReadSecondsAreTheSecondsTheImageStayedOpenUntilTheClientClosedIt()
    {
        var (t, pixel) = await ReadTimeSetupAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/t/o/" + pixel);
        request.Headers.TryAddWithoutValidation("User-Agent", IosMail);
        var response = await _host.Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("image/gif", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadAsStreamAsync();
        var head = new byte[ReadTime.Head.Length + ReadTime.Frame.Length];
        await body.ReadExactlyAsync(head);
        Assert.Equal([.. ReadTime.Head, .. ReadTime.Frame], head);
        for (var s = 1; s <= 7; s++)
        {
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
            var frame = new byte[ReadTime.Frame.Length];
            await body.ReadExactlyAsync(frame); // a frame a second while the message is shown
            Assert.Equal(ReadTime.Frame, frame);
        }
        _host.Clock.Advance(TimeSpan.FromMilliseconds(600));
        response.Dispose(); // the reader closes the message

        var open = Assert.Single((await OpensAsync(t, 1)).GetProperty("Opens").EnumerateArray());
        Assert.Equal(7, open.GetProperty("ReadSeconds").GetInt32());
        var readTimes = await t.ServerApi.GetAsync("/stats/outbound/opens/readtimes").OkJson();
        Assert.Equal(1, readTimes.GetProperty("7s").GetInt32());
        Assert.Equal(1, readTimes.GetProperty("Days")[0].GetProperty("7s").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound").OkJson()).GetProperty("WithReadTimeRecorded").GetInt32());
    }

    [Fact]
    public async Task AnImageStillShownAfterTwentySecondsEndsAndCountsAsMoreThanTwentySeconds()
    {
        var (t, pixel) = await ReadTimeSetupAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/t/o/" + pixel);
        request.Headers.TryAddWithoutValidation("User-Agent", IosMail);
        using var response = await _host.Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var expected = ReadTime.Head.Length + (ReadTime.MaxSeconds + 1) * ReadTime.Frame.Length + ReadTime.Trailer.Length;
        var buffer = new byte[1024];
        while (received.Length < expected)
        {
            var read = await body.ReadAsync(buffer);
            if (read == 0)
                break;
            received.Write(buffer, 0, read);
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal(0, await body.ReadAsync(buffer)); // the GIF ended: trailer, then the end of the response
        var gif = received.ToArray();
        Assert.Equal(expected, gif.Length);
        Assert.Equal(0x3B, gif[^1]);

        var open = Assert.Single((await OpensAsync(t, 1)).GetProperty("Opens").EnumerateArray());
        Assert.Equal(ReadTime.MaxSeconds, open.GetProperty("ReadSeconds").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/opens/readtimes").OkJson()).GetProperty("20s+").GetInt32());
    }

    [Fact]
    public async Task ImageProxiesAndPrefetchesGetThePlainImageAndNoReadTime()
    {
        var (t, pixel) = await ReadTimeSetupAsync();
        foreach (var agent in new[] { GmailProxy, "Mozilla/5.0" })
        {
            var image = await GetAsync("/t/o/" + pixel, agent); // answered without the clock moving: not streamed
            Assert.Equal(42, image.Content.Headers.ContentLength);
        }
        var opens = (await OpensAsync(t, 2)).GetProperty("Opens").EnumerateArray().ToList();
        Assert.All(opens, o => Assert.Equal(0, o.GetProperty("ReadSeconds").GetInt32()));
        var overview = await t.ServerApi.GetAsync("/stats/outbound").OkJson();
        Assert.False(overview.TryGetProperty("WithReadTimeRecorded", out var w) && w.GetInt32() != 0);
    }

    [Fact]
    public async Task WithAGeoIpDatabaseOpensAndClicksCarryWhereTheirAddressIs()
    {
        // MaxMind's own test database (tests/fixtures/geoip, MIT): 214.78.120.0/22 is San Diego there. The address is a
        // value handed to the recorder, as Kestrel would from the connection; nothing connects to it.
        await _host.DisposeAsync();
        _host = await MailroomHost.StartAsync(tweak: s => s with
        {
            Relay = $"127.0.0.1:{_sink.Port}", Roles = "api",
            GeoIpDatabase = Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "geoip", "GeoIP2-City-Test.mmdb"),
        });
        var (t, pixel) = await TrackedMessageAsync();
        var link = ClickPath().Match(Bodies(Assert.Single(_sink.Messages).Data).Html).Groups[1].Value;
        var recorder = _host.App.Services.GetRequiredService<EngagementRecorder>();
        var sanDiego = IPAddress.Parse("214.78.120.5");
        Assert.True(await recorder.RecordOpenAsync(new EngagementRequest(pixel, IosMail, sanDiego), CancellationToken.None));
        Assert.NotNull(await recorder.RecordClickAsync(new EngagementRequest(link, Chrome, sanDiego), CancellationToken.None));
        Assert.True(await recorder.RecordOpenAsync(new EngagementRequest(pixel, IosMail, IPAddress.Loopback), CancellationToken.None)); // not in the database

        var opens = (await OpensAsync(t, 2)).GetProperty("Opens").EnumerateArray().ToList();
        var geo = opens.Single(o => o.GetProperty("FirstOpen").GetBoolean()).GetProperty("Geo");
        var click = Assert.Single((await t.ServerApi.GetAsync("/messages/outbound/clicks?count=10&offset=0").OkJson()).GetProperty("Clicks").EnumerateArray());
        foreach (var g in new[] { geo, click.GetProperty("Geo") })
        {
            Assert.Equal("US", g.GetProperty("CountryISOCode").GetString());
            Assert.Equal("United States", g.GetProperty("Country").GetString());
            Assert.Equal("CA", g.GetProperty("RegionISOCode").GetString());
            Assert.Equal("California", g.GetProperty("Region").GetString());
            Assert.Equal("San Diego", g.GetProperty("City").GetString());
            Assert.Equal("92105", g.GetProperty("Zip").GetString());
            Assert.Equal("32.7405,-117.0935", g.GetProperty("Coords").GetString());
            Assert.Equal("214.78.120.5", g.GetProperty("IP").GetString());
        }
        var unknown = opens.Single(o => !o.GetProperty("FirstOpen").GetBoolean()).GetProperty("Geo");
        Assert.Equal("127.0.0.1", unknown.GetProperty("IP").GetString());
        Assert.False(unknown.TryGetProperty("Country", out var c) && c.ValueKind == JsonValueKind.String);

        // Counted per country (beyond Postmark: /opens/countries, /clicks/countries); the click's place in the message
        // stays /clicks/location's business (HTML or Text).
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/opens/countries").OkJson()).GetProperty("United States").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/clicks/countries").OkJson()).GetProperty("United States").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/clicks/location").OkJson()).GetProperty("HTML").GetInt32());
    }

    [Fact]
    public async Task SandboxServersTrackLikeLiveOnesButDeliverNothing()
    {
        var t = await _host.CreateTenantAsync(deliveryType: "Sandbox");
        var id = await SendAsync(t, "jo@example.net");
        await DeliverAsync();
        Assert.Empty(_sink.Messages);
        var html = (await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson()).GetProperty("HtmlBody").GetString()!;
        var pixel = PixelPath().Match(html).Groups[1].Value;
        var link = ClickPath().Match(html).Groups[1].Value;
        Assert.NotEmpty(pixel);
        Assert.NotEmpty(link);
        _host.Clock.Advance(TimeSpan.FromMinutes(10));
        (await GetAsync("/t/o/" + pixel, IosMail)).EnsureSuccessStatusCode();
        var click = await GetAsync("/t/c/" + link, Chrome);
        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        Assert.Equal("https://shop.example/sale?utm=mail", click.Headers.Location!.OriginalString);
        Assert.Equal("jo@example.net", Assert.Single((await OpensAsync(t, 1)).GetProperty("Opens").EnumerateArray()).GetProperty("Recipient").GetString());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/opens").OkJson()).GetProperty("Unique").GetInt32());
        Assert.Equal(1, (await t.ServerApi.GetAsync("/stats/outbound/clicks").OkJson()).GetProperty("Clicks").GetInt32());
    }

    [Fact]
    public async Task TextOnlyMailGetsNoImageAndTextOnlyTrackingLeavesHtmlLinks()
    {
        var t = await _host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net", trackLinks: "None", trackOpens: true, html: null);
        await DeliverAsync();
        var (_, text) = Bodies(Assert.Single(_sink.Messages).Data);
        Assert.DoesNotContain("/t/", text);
        Assert.Contains("https://shop.example/sale?utm=mail", text);
        Assert.Equal(0, await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().TrackedLinks.CountAsync()));

        _sink.Messages.Clear();
        await SendAsync(t, "al@example.net", trackLinks: "TextOnly", trackOpens: false);
        await DeliverAsync();
        var (html2, text2) = Bodies(Assert.Single(_sink.Messages).Data);
        Assert.Contains("href=\"https://shop.example/sale?utm=mail\"", html2);
        Assert.DoesNotContain("/t/o/", html2);
        Assert.Single(ClickPath().Matches(text2));
    }
}
