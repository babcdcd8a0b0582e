using System.Diagnostics;
using System.Security.Cryptography;
using Mailroom.Core.Inbound;
using Mailroom.Core.Webhooks;
using Mailroom.Tests.Webhooks;
using MailKit.Net.Smtp;
using MimeKit;
using MimeKit.Cryptography;

namespace Mailroom.Tests.Inbound;

/// <summary>
/// Inbound mail end to end: real SMTP clients (MailKit, swaks) deliver to the MX listener; the processed payload reaches
/// a loopback receiver through the webhooks outbox (rounds driven by hand on the fake clock: role api,mx, no webhook
/// worker); unknown recipients are refused at RCPT; rules block; retry, 403, manual retry and bypass; tenants are apart.
/// </summary>
public sealed class InboundFlowTests : IAsyncLifetime
{
    private MailroomHost _host = null!;
    private WebhookReceiver _receiver = null!;
    private TestDnsServer _dns = null!;
    private int _mxPort;
    private const string InboundHost = "inbound.mailroom.test";

    public async ValueTask InitializeAsync()
    {
        _dns = TestDnsServer.Start();
        _receiver = await WebhookReceiver.StartAsync();
        _mxPort = SmtpSink.FreeTcpPort();
        // Sender domain: SPF allows loopback, DMARC published; its DKIM key is added by the test that signs.
        _dns.AddTxt("sender.example", "v=spf1 ip4:127.0.0.0/8 -all");
        _dns.AddTxt("_dmarc.sender.example", "v=DMARC1; p=reject");
        _host = await MailroomHost.StartAsync(tweak: s => s with
        {
            Roles = "api,mx", Mx = $"127.0.0.1:{_mxPort}", AllowPrivateWebhooks = true, Dns = _dns.Address, InboundHost = InboundHost,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _receiver.DisposeAsync();
        _dns.Dispose();
    }

    private Task<int> RoundAsync() => _host.App.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);

    private async Task<Tenant> InboundTenantAsync(string hookPath)
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PutAsJsonAsync("/server", new { InboundHookUrl = _receiver.BaseUrl + hookPath }).OkJson();
        return t;
    }

    private static Task<SmtpClient> ConnectAsync(int port) => RemoteMta.ConnectAsync(port, "mta.sender.example");

    private Task SendAsync(MimeMessage message, string rcpt, string mailFrom = "bounces@sender.example") =>
        RemoteMta.SendAsync(_mxPort, message, mailFrom, rcpt, "mta.sender.example");

    private async Task<List<InboundMessage>> RowsAsync(int serverId) =>
        await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().InboundMessages.AsNoTracking()
            .Where(m => m.ServerId == serverId).ToListAsync());

    private Task UntilStatusAsync(int serverId, InboundStatus status, int count = 1) =>
        Eventually.True(async () => (await RowsAsync(serverId)).Count(m => m.Status == status) >= count, because: $"{count} inbound message(s) {status}");

    private static MimeMessage Mail(string to, string subject = "Order question", string? cc = null)
    {
        var m = new MimeMessage { Subject = subject, Date = new DateTimeOffset(2026, 12, 4, 16, 45, 32, TimeSpan.FromHours(-4)) };
        m.From.Add(new MailboxAddress("Jane Doe", "jane@sender.example"));
        m.To.Add(new MailboxAddress("Support", to));
        if (cc is not null)
            m.Cc.Add(new MailboxAddress("Carol", cc));
        m.MessageId = "q-1@sender.example";
        m.Headers.Add("X-PM-Tag", "support");
        var builder = new BodyBuilder
        {
            TextBody = "Where is my parcel?\n\nOn Thu, Dec 3, 2026 at 10:15 AM Shop <orders@shop.example> wrote:\n> Your order shipped.\n",
            HtmlBody = "<p>Where is my parcel?</p><img src=\"cid:logo\">",
        };
        var logo = builder.LinkedResources.Add("logo.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2 }, new ContentType("image", "png"));
        logo.ContentId = "logo";
        builder.Attachments.Add("Übersicht.pdf", Encoding.ASCII.GetBytes("%PDF-1.4"), new ContentType("application", "pdf"));
        m.Body = builder.ToMessageBody();
        return m;
    }

    [Fact]
    public async Task MailKitMessageReachesTheHookAsThePostmarkPayloadWithAuthenticationResults()
    {
        var t = await InboundTenantAsync("/hook");
        var rsa = RSA.Create(2048);
        _dns.AddTxt("mr1._domainkey.sender.example", "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
        var address = $"{t.Server.InboundHash}+ticket-42@{InboundHost}";
        Assert.Equal($"{t.Server.InboundHash}@{InboundHost}", t.Server.InboundAddress);
        var message = Mail(address, cc: "carol@other.example");
        message.Prepare(EncodingConstraint.SevenBit);
        var signer = new DkimSigner(new MemoryStream(Encoding.ASCII.GetBytes(rsa.ExportRSAPrivateKeyPem())), "sender.example", "mr1")
        {
            HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
            BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed,
        };
        signer.Sign(message, [HeaderId.From, HeaderId.To, HeaderId.Subject, HeaderId.Date, HeaderId.MessageId]);

        await SendAsync(message, address);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);
        Assert.Equal(1, await RoundAsync());

        var got = Assert.Single(_receiver.At("/hook"));
        Assert.Equal("10", got.Headers["X-PM-Retries-Remaining"]);
        var p = JsonDocument.Parse(got.Body).RootElement;
        Assert.Equal(
            ["FromName", "MessageStream", "From", "FromFull", "To", "ToFull", "Cc", "CcFull", "Bcc", "BccFull", "OriginalRecipient", "ReplyTo",
             "Subject", "MessageID", "Date", "MailboxHash", "TextBody", "HtmlBody", "StrippedTextReply", "Tag", "Headers", "Attachments"],
            p.EnumerateObject().Select(x => x.Name));
        Assert.Equal("Jane Doe", p.GetProperty("FromName").GetString());
        Assert.Equal("inbound", p.GetProperty("MessageStream").GetString());
        Assert.Equal("jane@sender.example", p.GetProperty("From").GetString());
        Assert.Equal("""{"Email":"jane@sender.example","Name":"Jane Doe","MailboxHash":""}""", p.GetProperty("FromFull").GetRawText());
        Assert.Equal($"\"Support\" <{address}>", p.GetProperty("To").GetString());
        Assert.Equal($$"""[{"Email":"{{address}}","Name":"Support","MailboxHash":"ticket-42"}]""", p.GetProperty("ToFull").GetRawText());
        Assert.Equal("\"Carol\" <carol@other.example>", p.GetProperty("Cc").GetString());
        Assert.Equal("""[{"Email":"carol@other.example","Name":"Carol","MailboxHash":""}]""", p.GetProperty("CcFull").GetRawText());
        Assert.Equal("", p.GetProperty("Bcc").GetString());
        Assert.Equal(address, p.GetProperty("OriginalRecipient").GetString());
        Assert.Equal("Order question", p.GetProperty("Subject").GetString());
        var id = p.GetProperty("MessageID").GetGuid();
        Assert.Equal("Fri, 04 Dec 2026 16:45:32 -0400", p.GetProperty("Date").GetString());
        Assert.Equal("ticket-42", p.GetProperty("MailboxHash").GetString());
        Assert.StartsWith("Where is my parcel?", p.GetProperty("TextBody").GetString());
        Assert.Equal("<p>Where is my parcel?</p><img src=\"cid:logo\">", p.GetProperty("HtmlBody").GetString());
        Assert.Equal("Where is my parcel?", p.GetProperty("StrippedTextReply").GetString());
        Assert.Equal("support", p.GetProperty("Tag").GetString());
        var headers = p.GetProperty("Headers").EnumerateArray().Select(h => (h.GetProperty("Name").GetString()!, h.GetProperty("Value").GetString()!)).ToList();
        Assert.Equal("Received-SPF", headers[0].Item1);
        Assert.StartsWith("Pass (inbound.mailroom.test: domain of bounces@sender.example designates 127.0.0.1 as permitted sender)", headers[0].Item2);
        Assert.Equal(("Authentication-Results",
                "inbound.mailroom.test; spf=pass smtp.mailfrom=bounces@sender.example; dkim=pass header.d=sender.example header.s=mr1; dmarc=pass header.from=sender.example"),
            headers[1]);
        Assert.Contains(headers, h => h.Item1.Equals("Message-ID", StringComparison.OrdinalIgnoreCase) && h.Item2 == "<q-1@sender.example>");
        var attachments = p.GetProperty("Attachments").EnumerateArray().ToList();
        Assert.Equal(2, attachments.Count);
        Assert.Equal("""{"Name":"logo.png","Content":"iVBORwEC","ContentType":"image/png","ContentLength":6,"ContentID":"logo"}""", attachments[0].GetRawText());
        Assert.Equal(("Übersicht.pdf", "application/pdf", 8L, ""), (attachments[1].GetProperty("Name").GetString(), attachments[1].GetProperty("ContentType").GetString(),
            attachments[1].GetProperty("ContentLength").GetInt64(), attachments[1].GetProperty("ContentID").GetString()));
        Assert.False(p.TryGetProperty("RawEmail", out _));

        // The Messages API shows it Processed, with its details.
        var list = await t.ServerApi.GetAsync("/messages/inbound?count=50&offset=0").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
        var item = list.GetProperty("InboundMessages")[0];
        Assert.Equal((id, "Processed", "ticket-42"), (item.GetProperty("MessageID").GetGuid(), item.GetProperty("Status").GetString(), item.GetProperty("MailboxHash").GetString()));
        Assert.Equal("""{"Name":"logo.png","ContentType":"image/png","ContentID":"logo","ContentLength":6}""", item.GetProperty("Attachments")[0].GetRawText());
        var details = await t.ServerApi.GetAsync($"/messages/inbound/{id}/details").OkJson();
        Assert.Equal("Where is my parcel?", details.GetProperty("StrippedTextReply").GetString());
        Assert.Equal("", details.GetProperty("BlockedReason").GetString());
        Assert.Equal("Delivered", details.GetProperty("MessageEvents")[0].GetProperty("Type").GetString());
        foreach (var (query, expected) in new[] { ("mailboxhash=ticket-42", 1), ("mailboxhash=other", 0), ("fromemail=jane@sender.example", 1), ("status=processed", 1),
                     ("status=failed", 0), ("subject=Order", 1), ("tag=support", 1), ("recipient=" + Uri.EscapeDataString(address), 1), ("fromdate=2026-11-30", 0) })
            Assert.True(expected == (await t.ServerApi.GetAsync($"/messages/inbound?count=10&offset=0&{query}").OkJson()).GetProperty("TotalCount").GetInt32(), query);
    }

    [Fact]
    public async Task RawEmailIsPostedWhenTheServerEnablesIt()
    {
        var t = await InboundTenantAsync("/raw");
        await t.ServerApi.PutAsJsonAsync("/server", new { RawEmailEnabled = true }).OkJson();
        await SendAsync(Mail("list@lists.sender.example"), t.Server.InboundAddress);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);
        await RoundAsync();
        var p = JsonDocument.Parse(Assert.Single(_receiver.At("/raw")).Body).RootElement;
        Assert.Contains("Subject: Order question", p.GetProperty("RawEmail").GetString());
        // Sent to our address only in the envelope: a Bcc.
        Assert.Equal(t.Server.InboundAddress, p.GetProperty("Bcc").GetString());
    }

    [Fact]
    public async Task UnknownRecipientsAreRefusedAtRcpt()
    {
        var t = await InboundTenantAsync("/x");
        await t.ServerApi.PutAsJsonAsync("/server", new { InboundDomain = "replies.customer.example" }).OkJson();
        _dns.AddMx("replies.customer.example", InboundHost);
        using var client = await ConnectAsync(_mxPort);
        async Task<SmtpCommandException> Refused(string rcpt) => await Assert.ThrowsAsync<SmtpCommandException>(() =>
            client.SendAsync(Mail(rcpt), MailboxAddress.Parse("a@sender.example"), [MailboxAddress.Parse(rcpt)]));

        var unknownHash = await Refused($"0123456789abcdef0123456789abcdef@{InboundHost}");
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, unknownHash.StatusCode);
        Assert.StartsWith("5.1.1 No such mailbox here", unknownHash.Message);
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, (await Refused("someone@elsewhere.example")).StatusCode);
        // A domain nobody configured, and one configured but whose MX is elsewhere.
        var t2 = await InboundTenantAsync("/y");
        await t2.ServerApi.PutAsJsonAsync("/server", new { InboundDomain = "notyet.customer.example" }).OkJson();
        _dns.AddMx("notyet.customer.example", "mx.other-provider.example");
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, (await Refused("help@notyet.customer.example")).StatusCode);

        // The inbound domain whose MX points here takes any local part.
        await client.SendAsync(Mail("help@replies.customer.example"), MailboxAddress.Parse("a@sender.example"), [MailboxAddress.Parse("help@replies.customer.example")]);
        await client.DisconnectAsync(true);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);
        Assert.Equal("help@replies.customer.example", Assert.Single(await RowsAsync(t.Server.ID)).Recipient);
        Assert.Empty(await RowsAsync(t2.Server.ID));
    }

    [Fact]
    public async Task AnInboundDomainWhoseMxCannotBeLookedUpGetsATemporaryRefusal()
    {
        var t = await InboundTenantAsync("/dns");
        await t.ServerApi.PutAsJsonAsync("/server", new { InboundDomain = "slow.customer.example" }).OkJson();
        _dns.Silence("slow.customer.example");
        using var client = await ConnectAsync(_mxPort);
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            client.SendAsync(Mail("help@slow.customer.example"), MailboxAddress.Parse("a@sender.example"), [MailboxAddress.Parse("help@slow.customer.example")]));
        Assert.Equal(451, (int)e.StatusCode);
        Assert.StartsWith("4.4.3", e.Message);
    }

    [Fact]
    public async Task BlockedSenderIsNotPostedAndBypassPostsIt()
    {
        var t = await InboundTenantAsync("/blocked");
        var rule = await t.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "Sender.Example" }).OkJson();
        Assert.Equal("sender.example", rule.GetProperty("Rule").GetString());
        await SendAsync(Mail(t.Server.InboundAddress), t.Server.InboundAddress);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Blocked);
        Assert.Equal(0, await RoundAsync());
        Assert.Empty(_receiver.At("/blocked"));
        var id = Assert.Single(await RowsAsync(t.Server.ID)).Id;
        var details = await t.ServerApi.GetAsync($"/messages/inbound/{id}/details").OkJson();
        Assert.Equal(("Blocked", "Blocked by the inbound rule 'sender.example'."), (details.GetProperty("Status").GetString(), details.GetProperty("BlockedReason").GetString()));
        Assert.Equal(1, (await t.ServerApi.GetAsync("/messages/inbound?count=10&offset=0&status=blocked").OkJson()).GetProperty("TotalCount").GetInt32());
        // A retry is only for failed messages.
        await t.ServerApi.PutAsync($"/messages/inbound/{id}/retry", null).Error(422, 703);

        await t.ServerApi.PutAsync($"/messages/inbound/{id}/bypass", null).OkJson();
        Assert.Equal(1, await RoundAsync());
        Assert.Single(_receiver.At("/blocked"));
        Assert.Equal(InboundStatus.Processed, Assert.Single(await RowsAsync(t.Server.ID)).Status);
        await t.ServerApi.PutAsync($"/messages/inbound/{id}/bypass", null).Error(422, 702);
    }

    [Fact]
    public async Task InboundRulesAreListedAndDeleted()
    {
        var t = await InboundTenantAsync("/r");
        var a = await t.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "spam@bad.example" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "bad.example" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "bad.example" }).Error(422, 810);
        await t.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "not a rule" }).Error(422, 813);
        var list = await t.ServerApi.GetAsync("/triggers/inboundrules?count=10&offset=0").OkJson();
        Assert.Equal(2, list.GetProperty("TotalCount").GetInt32());
        Assert.Equal(["spam@bad.example", "bad.example"], list.GetProperty("InboundRules").EnumerateArray().Select(r => r.GetProperty("Rule").GetString()));
        await t.ServerApi.DeleteAsync($"/triggers/inboundrules/{a.GetProperty("ID").GetInt32()}").OkJson();
        await t.ServerApi.DeleteAsync($"/triggers/inboundrules/{a.GetProperty("ID").GetInt32()}").Error(422, 812);
        Assert.Equal(1, (await t.ServerApi.GetAsync("/triggers/inboundrules?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task FailedPostsAreRetriedOnTheInboundScheduleThenFailAndAManualRetryPostsAgain()
    {
        var t = await InboundTenantAsync("/down");
        var up = false;
        _receiver.Respond = (path, _) => (path == "/down" && !up ? 500 : 200, null);
        await SendAsync(Mail(t.Server.InboundAddress), t.Server.InboundAddress);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);

        Assert.Equal(1, await RoundAsync());
        Assert.Equal(InboundStatus.Scheduled, Assert.Single(await RowsAsync(t.Server.ID)).Status);
        foreach (var delay in InboundRetrySchedule.Delays)
        {
            _host.Clock.Advance(delay - TimeSpan.FromSeconds(1));
            Assert.Equal(0, await RoundAsync()); // not due yet
            _host.Clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await RoundAsync());
        }
        var posts = _receiver.At("/down");
        Assert.Equal(11, posts.Count);
        Assert.Equal(Enumerable.Range(0, 11).Select(i => (10 - i).ToString()), posts.Select(p => p.Headers["X-PM-Retries-Remaining"]));
        var row = Assert.Single(await RowsAsync(t.Server.ID));
        Assert.Equal(InboundStatus.Failed, row.Status);
        _host.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await RoundAsync());

        up = true;
        await t.ServerApi.PutAsync($"/messages/inbound/{row.Id}/retry", null).OkJson();
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(12, _receiver.At("/down").Count);
        Assert.Equal(InboundStatus.Processed, Assert.Single(await RowsAsync(t.Server.ID)).Status);
        var events = (await t.ServerApi.GetAsync($"/messages/inbound/{row.Id}/details").OkJson()).GetProperty("MessageEvents").EnumerateArray()
            .Select(e => e.GetProperty("Type").GetString()).ToList();
        Assert.Equal([.. Enumerable.Repeat("Transient", 10), "Failed", "Delivered"], events);
    }

    [Fact]
    public async Task A403StopsPostingAtOnce()
    {
        var t = await InboundTenantAsync("/forbidden");
        _receiver.Respond = (path, _) => (path == "/forbidden" ? 403 : 200, null);
        await SendAsync(Mail(t.Server.InboundAddress), t.Server.InboundAddress);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);
        Assert.Equal(1, await RoundAsync());
        Assert.Equal(InboundStatus.Failed, Assert.Single(await RowsAsync(t.Server.ID)).Status);
        _host.Clock.Advance(TimeSpan.FromHours(11));
        Assert.Equal(0, await RoundAsync());
        Assert.Single(_receiver.At("/forbidden"));
    }

    [Fact]
    public async Task InboundMailOfOneServerNeverReachesAnotherServersHookOrApi()
    {
        var a = await InboundTenantAsync("/a");
        var b = await InboundTenantAsync("/b");
        await SendAsync(Mail(a.Server.InboundAddress, subject: "For A"), a.Server.InboundAddress);
        await UntilStatusAsync(a.Server.ID, InboundStatus.Queued);
        await RoundAsync();
        Assert.Equal("For A", JsonDocument.Parse(Assert.Single(_receiver.At("/a")).Body).RootElement.GetProperty("Subject").GetString());
        Assert.Empty(_receiver.At("/b"));

        var id = Assert.Single(await RowsAsync(a.Server.ID)).Id;
        Assert.Equal(0, (await b.ServerApi.GetAsync("/messages/inbound?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        await b.ServerApi.GetAsync($"/messages/inbound/{id}/details").Error(422, 701);
        await b.ServerApi.PutAsync($"/messages/inbound/{id}/retry", null).Error(422, 701);
        await b.ServerApi.PutAsync($"/messages/inbound/{id}/bypass", null).Error(422, 701);
        var rule = await a.ServerApi.PostAsJsonAsync("/triggers/inboundrules", new { Rule = "x.example" }).OkJson();
        await b.ServerApi.DeleteAsync($"/triggers/inboundrules/{rule.GetProperty("ID").GetInt32()}").Error(422, 812);
        Assert.Equal(0, (await b.ServerApi.GetAsync("/triggers/inboundrules?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task SwaksDeliversToTheInboundAddress()
    {
        const string swaks = "/usr/bin/swaks";
        Assert.SkipUnless(File.Exists(swaks), "swaks is not installed (.ci/run installs it)");
        var t = await InboundTenantAsync("/swaks");
        var address = $"{t.Server.InboundHash}+from-swaks@{InboundHost}";
        await ConnectAsync(_mxPort).ContinueWith(c => c.Result.Dispose()); // wait for the listener
        var start = new ProcessStartInfo(swaks) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
                 {
                     "--server", $"127.0.0.1:{_mxPort}", "--from", "bounces@sender.example", "--to", address, "--helo", "mta.sender.example",
                     "--header", "From: Swaks User <jane@sender.example>", "--header", "Subject: Hello from swaks", "--body", "Sent by swaks.", "--timeout", "30",
                 })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var transcript = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, transcript);
        await UntilStatusAsync(t.Server.ID, InboundStatus.Queued);
        await RoundAsync();
        var p = JsonDocument.Parse(Assert.Single(_receiver.At("/swaks")).Body).RootElement;
        Assert.Equal(("Swaks User", "Hello from swaks", "from-swaks", address), (p.GetProperty("FromName").GetString(), p.GetProperty("Subject").GetString(),
            p.GetProperty("MailboxHash").GetString(), p.GetProperty("OriginalRecipient").GetString()));
        Assert.Equal("Sent by swaks.", p.GetProperty("TextBody").GetString()!.Trim());
    }
}
