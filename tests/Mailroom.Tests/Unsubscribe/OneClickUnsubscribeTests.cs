using System.Text.RegularExpressions;
using Mailroom.Core.Delivery;
using Mailroom.Core.Identities;
using Mailroom.Core.Preparation;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Unsubscribe;

/// <summary>
/// One-click unsubscribes per stream through the real pipeline: messages on a broadcast stream are prepared, signed
/// and delivered to a loopback sink; their List-Unsubscribe links are used as a mail client (RFC 8058 POST), a person
/// (the hosted page) and a mail program (the mailto address, through the MX listener) would use them.
/// </summary>
public sealed class OneClickUnsubscribeTests() : RelayedHostTests(mx: true, sinkTls: false)
{
    private static Task<HttpResponseMessage> Send(Tenant t, string to, string stream) =>
        t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "news@mailroom.test", To = to, Subject = "Our news", MessageStream = stream, Tag = "weekly",
            HtmlBody = "<p>News</p><p><a href=\"{{{ pm:unsubscribe }}}\">Unsubscribe</a></p>",
            TextBody = "News\n\nUnsubscribe: {{{ pm:unsubscribe }}}\n",
        });

    private async Task<List<SinkMessage>> SendAndDeliverAsync(Tenant t, string to, string stream = "broadcast")
    {
        var before = Sink.Messages.Count;
        await Send(t, to, stream).OkJson();
        await RunPipelineAsync();
        return Sink.Messages.Skip(before).ToList();
    }

    private static (string Https, string Mailto) Links(SinkMessage m)
    {
        var header = MimeMessage.Load(new MemoryStream(m.Data)).Headers["List-Unsubscribe"] ?? "";
        var uris = Regex.Matches(header, "<([^>]+)>").Select(x => x.Groups[1].Value).ToList();
        return (Assert.Single(uris, u => u.StartsWith("http", StringComparison.Ordinal)), Assert.Single(uris, u => u.StartsWith("mailto:", StringComparison.Ordinal)));
    }

    private static string PathOf(string url) => new Uri(url).PathAndQuery;

    private Task<HttpResponseMessage> OneClick(string url) =>
        Host.Client().PostAsync(PathOf(url), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));

    private static async Task<List<JsonElement>> SuppressionsAsync(Tenant t, string stream) =>
        (await t.ServerApi.GetAsync($"/message-streams/{stream}/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray().ToList();

    [Fact]
    public async Task EachRecipientGetsSignedOneClickHeadersAndTheirOwnLinkInTheBody()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "ann@example.net, bob@example.net");
        Assert.Equal(2, delivered.Count);
        var key = await Host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());
        var links = new List<string>();
        foreach (var m in delivered)
        {
            var message = MimeMessage.Load(new MemoryStream(m.Data));
            Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
            var (https, mailto) = Links(m);
            Assert.StartsWith("http://mailroom.test/unsubscribe/", https);
            Assert.StartsWith("mailto:unsubscribe@pm-bounces.", mailto);
            // Both headers are inside the DKIM signature (RFC 8058 §4), and an independent verifier passes it.
            var h = Regex.Match((message.Headers[HeaderId.DkimSignature] ?? "").Replace("\r\n", "").Replace(" ", "").Replace("\t", ""), @"h=([^;]+)").Groups[1].Value.ToLowerInvariant().Split(':');
            Assert.Contains("list-unsubscribe", h);
            Assert.Contains("list-unsubscribe-post", h);
            Assert.Equal("pass", await PythonDkim.VerifyAsync(m.Data, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
            // The placeholder became this recipient's link in both bodies.
            Assert.Contains($"href=\"{https}\"", message.HtmlBody);
            Assert.Contains("Unsubscribe: " + https, message.TextBody);
            Assert.DoesNotContain("pm:unsubscribe", message.HtmlBody + message.TextBody);
            links.Add(https);
        }
        Assert.NotEqual(links[0], links[1]);
        // A transactional stream (UnsubscribeHandlingType None) gets nothing added.
        var plain = Assert.Single(await SendAndDeliverAsync(t, "ann@example.net", "outbound"));
        Assert.Null(MimeMessage.Load(new MemoryStream(plain.Data)).Headers["List-Unsubscribe"]);
    }

    [Fact]
    public async Task AOneClickPostSuppressesInThatStreamOnly()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = "https://hooks.example.net/pm", MessageStream = "broadcast",
            Triggers = new { SubscriptionChange = new { Enabled = true } },
        }).OkJson();
        var delivered = await SendAndDeliverAsync(t, "ann@example.net");
        var (https, _) = Links(Assert.Single(delivered));

        var res = await OneClick(https);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var s = Assert.Single(await SuppressionsAsync(t, "broadcast"));
        Assert.Equal("ann@example.net", s.GetProperty("EmailAddress").GetString());
        Assert.Equal("ManualSuppression", s.GetProperty("SuppressionReason").GetString());
        Assert.Equal("Recipient", s.GetProperty("Origin").GetString());
        Assert.Empty(await SuppressionsAsync(t, "outbound"));

        // A second POST (the page after the one-click) changes nothing more.
        Assert.Equal(HttpStatusCode.OK, (await OneClick(https)).StatusCode);
        Assert.Single(await SuppressionsAsync(t, "broadcast"));

        // The message shows the change; the webhook outbox has its SubscriptionChange.
        var id = (await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&messagestream=broadcast").OkJson()).GetProperty("Messages")[0].GetProperty("MessageID").GetString();
        var events = (await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson()).GetProperty("MessageEvents").EnumerateArray();
        Assert.Contains(events, e => e.GetProperty("Type").GetString() == "SubscriptionChanged");
        var payloads = await Host.ScopedAsync(async sp => await sp.GetRequiredService<MailroomDb>().WebhookEvents.AsNoTracking()
            .Where(e => e.RecordType == "SubscriptionChange").Select(e => e.PayloadJson).ToListAsync());
        var hook = JsonDocument.Parse(Assert.Single(payloads)).RootElement;
        Assert.Equal("Recipient", hook.GetProperty("Origin").GetString());
        Assert.Equal("ann@example.net", hook.GetProperty("Recipient").GetString());
        Assert.Equal(id, hook.GetProperty("MessageID").GetString());
        Assert.Equal("broadcast", hook.GetProperty("MessageStream").GetString());
        Assert.True(hook.GetProperty("SuppressSending").GetBoolean());
        Assert.Equal("ManualSuppression", hook.GetProperty("SuppressionReason").GetString());
        Assert.Equal("weekly", hook.GetProperty("Tag").GetString());

        // The next send on that stream answers 406; the transactional stream still delivers.
        await Send(t, "ann@example.net", "broadcast").Error(422, 406);
        Assert.Single(await SendAndDeliverAsync(t, "ann@example.net", "outbound"));
        // A customer cannot delete a recipient's own unsubscribe (spec §7.2).
        var del = await t.ServerApi.PostAsJsonAsync("/message-streams/broadcast/suppressions/delete", new { Suppressions = new[] { new { EmailAddress = "ann@example.net" } } }).OkJson();
        Assert.Equal("Failed", del.GetProperty("Suppressions")[0].GetProperty("Status").GetString());
    }

    [Fact]
    public async Task TheHostedPageAsksBeforeItUnsubscribes()
    {
        var t = await Host.CreateTenantAsync();
        var (https, _) = Links(Assert.Single(await SendAndDeliverAsync(t, "ann@example.net")));
        var page = await Host.Client().GetAsync(PathOf(https));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<form method=\"post\"", html);
        Assert.Contains("ann@example.net", html);
        Assert.Empty(await SuppressionsAsync(t, "broadcast")); // GET changes nothing (scanners fetch links)
        var confirm = await Host.Client().PostAsync(PathOf(https), new FormUrlEncodedContent([new("confirm", "yes")]));
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Single(await SuppressionsAsync(t, "broadcast"));
    }

    [Fact]
    public async Task AForgedOrAlteredTokenIsRefusedAndSuppressesNothing()
    {
        var t = await Host.CreateTenantAsync();
        var (https, _) = Links(Assert.Single(await SendAndDeliverAsync(t, "ann@example.net")));
        var token = https[(https.LastIndexOf('/') + 1)..];
        // One character changed anywhere (here in the recipient part, near the MAC, at the start).
        foreach (var at in new[] { token.Length / 2, token.Length - 3, 2 })
        {
            var altered = token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
            Assert.Equal(HttpStatusCode.NotFound, (await OneClick("http://mailroom.test/unsubscribe/" + altered)).StatusCode);
        }
        // A token of the same shape signed with another key.
        var forged = new Mailroom.Core.Events.UnsubscribeTokens(new byte[32]).Create(
            new Mailroom.Core.Events.UnsubscribeTarget(t.Server.ID, "broadcast", "ann@example.net", Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.NotFound, (await OneClick("http://mailroom.test/unsubscribe/" + forged)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Client().GetAsync("/unsubscribe/" + forged)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await OneClick("http://mailroom.test/unsubscribe/not-a-token")).StatusCode);
        Assert.Empty(await SuppressionsAsync(t, "broadcast"));
    }

    [Fact]
    public async Task AnEmailToTheMailtoAddressUnsubscribesThroughTheMxListener()
    {
        var t = await Host.CreateTenantAsync();
        var (_, mailto) = Links(Assert.Single(await SendAndDeliverAsync(t, "ann@example.net")));
        var uri = new Uri(mailto);
        var to = Uri.UnescapeDataString(mailto["mailto:".Length..mailto.IndexOf('?')]);
        var subject = Uri.UnescapeDataString(Regex.Match(uri.Query, "subject=([^&]+)").Groups[1].Value);
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse("ann@example.net"));
        mail.To.Add(MailboxAddress.Parse(to));
        mail.Subject = subject;
        mail.Body = new TextPart("plain") { Text = "" };
        await RemoteMta.SendAsync(MxPort, mail, "ann@example.net", to);

        var s = Assert.Single(await SuppressionsAsync(t, "broadcast"));
        Assert.Equal("Recipient", s.GetProperty("Origin").GetString());
        Assert.Empty(await SuppressionsAsync(t, "outbound"));
        await Send(t, "ann@example.net", "broadcast").Error(422, 406);
    }
}
