using System.Security.Authentication;
using System.Text.RegularExpressions;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Mailroom.Cli;
using Mailroom.Core.Events;
using Mailroom.Core.Queue;
using Mailroom.Smtp;
using Microsoft.AspNetCore.Builder;
using MimeKit;

namespace Mailroom.Tests.Smtp;

/// <summary>Starting a Mailroom with the smtp role on a free loopback port, and talking to it with MailKit.</summary>
internal static class SmtpHost
{
    public static Task<MailroomHost> StartAsync(Func<MailroomSettings, MailroomSettings>? tweak = null, Action<WebApplicationBuilder>? configure = null) =>
        MailroomHost.StartAsync(configure, s =>
        {
            s = s with { Roles = "api,smtp", Smtp = "127.0.0.1:0" };
            return tweak?.Invoke(s) ?? s;
        });

    public static int Port(this MailroomHost host) => host.App.Services.GetRequiredService<SmtpSubmissionService>().LocalEndPoint!.Port;

    /// <summary>A MailKit client, connected (STARTTLS by default, any certificate accepted) and, given a token, authenticated.</summary>
    public static async Task<SmtpClient> ClientAsync(this MailroomHost host, string? token, SecureSocketOptions tls = SecureSocketOptions.StartTls, string? mechanism = null)
    {
        var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false, Timeout = 30_000 };
        await client.ConnectAsync("127.0.0.1", host.Port(), tls);
        if (mechanism is not null)
            foreach (var m in client.AuthenticationMechanisms.Where(m => m != mechanism).ToList())
                client.AuthenticationMechanisms.Remove(m);
        if (token is not null)
            await client.AuthenticateAsync(token, token);
        return client;
    }

    public static MimeMessage Message(string from = "app@mailroom.test", string to = "jo@example.net", string subject = "Hello", string text = "Hi there")
    {
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse(from));
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = subject;
        m.Body = new TextPart("plain") { Text = text };
        return m;
    }

    /// <summary>The MessageID in our 250 reply to DATA: "2.0.0 Ok: queued as {id}".</summary>
    public static Guid QueuedId(string reply)
    {
        var match = Regex.Match(reply, "queued as ([0-9a-f-]{36})");
        Assert.True(match.Success, $"Unexpected reply to DATA: {reply}");
        return Guid.Parse(match.Groups[1].Value);
    }

    public static Task<OutboundMessage> StoredAsync(this MailroomHost host, Guid id) =>
        host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().SingleAsync(m => m.Id == id));

    public static Task<int> StoredCountAsync(this MailroomHost host) =>
        host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.CountAsync());

    public static MimeMessage Mime(this OutboundMessage stored) => MimeMessage.Load(new MemoryStream(stored.Mime!));

    /// <summary>Sends <paramref name="message"/> and expects it refused with <paramref name="code"/> and the RFC 3463
    /// enhanced status <paramref name="enhanced"/> at the start of the reply text; returns the refusal.</summary>
    public static async Task<SmtpCommandException> RefusedAsync(this SmtpClient client, MimeMessage message, SmtpStatusCode code, string enhanced)
    {
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message));
        Assert.Equal(code, e.StatusCode);
        Assert.StartsWith(enhanced + " ", e.Message);
        return e;
    }
}

/// <summary>
/// SMTP submission end to end: MailKit (and a raw client where MailKit will not misbehave) against the listener
/// in process, the message checked in the store and through the Messages API.
/// </summary>
public sealed class SmtpSubmissionTests : IAsyncLifetime
{
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await SmtpHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private string Token(Tenant t) => t.Server.ApiTokens[0];

    private async Task<(SmtpDialog Dialog, Reply Greeting)> DialogAsync(bool tls = false, string? token = null)
    {
        var (d, greeting) = await SmtpDialog.OpenAsync(_host.Port());
        Assert.Equal(250, (await d.SendAsync("EHLO client.test")).Code);
        if (tls)
        {
            Assert.Equal(220, (await d.StartTlsAsync()).Code);
            Assert.Equal(250, (await d.SendAsync("EHLO client.test")).Code);
        }
        if (token is not null)
            Assert.Equal(235, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(token, token))).Code);
        return (d, greeting);
    }

    /// <summary>MAIL, RCPT for each recipient, DATA with <paramref name="content"/> (CRLF lines); the reply to the end of data.</summary>
    private static async Task<Reply> TransactionAsync(SmtpDialog d, string content, params string[] recipients)
    {
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<bounces@app.example>")).Code);
        foreach (var r in recipients)
            Assert.Equal(250, (await d.SendAsync($"RCPT TO:<{r}>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        return await d.SendAsync(content.Replace("\r\n", "\n").Replace("\n", "\r\n") + "\r\n.");
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task SendsWithTheServerTokenOverStartTlsAndTheMessageIsInTheMessagesApi(string mechanism)
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t), mechanism: mechanism);
        Assert.True(client.IsSecure);
        Assert.True(client.IsAuthenticated);
        Assert.Contains(client.SslProtocol, new[] { SslProtocols.Tls12, SslProtocols.Tls13 });
        var reply = await client.SendAsync(SmtpHost.Message(from: "Shop <shop@mailroom.test>", subject: "Order 42"));
        var id = SmtpHost.QueuedId(reply);
        await client.DisconnectAsync(true);

        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
        var m = list.GetProperty("Messages")[0];
        Assert.Equal(id.ToString(), m.GetProperty("MessageID").GetString());
        Assert.Equal("Order 42", m.GetProperty("Subject").GetString());
        Assert.Contains("shop@mailroom.test", m.GetProperty("From").GetString());
        Assert.Equal("outbound", m.GetProperty("MessageStream").GetString());
        Assert.Equal(["jo@example.net"], m.GetProperty("Recipients").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("jo@example.net", m.GetProperty("To")[0].GetProperty("Email").GetString());

        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Equal("Hi there", details.GetProperty("TextBody").GetString()!.TrimEnd());
        var stored = (await _host.StoredAsync(id)).Mime();
        Assert.Equal($"{id}@mailroom.test", stored.MessageId);
        var received = Regex.Replace(stored.Headers[HeaderId.Received]!, @"\s+", " ");
        Assert.StartsWith("from ", received);
        Assert.Contains("by mailroom.test (Mailroom)", received);
        Assert.Contains("with ESMTPSA id " + id.ToString("N"), received);
        Assert.Contains("[127.0.0.1]", received);
    }

    [Fact]
    public async Task WrongCredentialsAreRefusedWith535InPlainAndLogin()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true);
        await using (d)
        {
            var plain = await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain("not-a-token", "not-a-token"));
            Assert.Equal(535, plain.Code);
            Assert.StartsWith("5.7.8 ", plain.Text);
            // The token as user name only: Postmark wants it as both.
            Assert.Equal(535, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), "x"))).Code);

            Assert.Equal(334, (await d.SendAsync("AUTH LOGIN")).Code);
            Assert.Equal(334, (await d.SendAsync(SmtpDialog.Base64("nobody"))).Code);
            var login = await d.SendAsync(SmtpDialog.Base64("nothing"));
            Assert.Equal(535, login.Code);
            Assert.StartsWith("5.7.8 ", login.Text);

            // The session goes on: the right token still works.
            Assert.Equal(235, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)))).Code);
        }
        using var client = await _host.ClientAsync(null);
        await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => client.AuthenticateAsync("wrong", "wrong"));
    }

    [Fact]
    public async Task AnAccountTokenIsRefusedWithAHint()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true);
        await using var _d = d;
        var reply = await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(t.Account.AccountToken, t.Account.AccountToken));
        Assert.Equal(535, reply.Code);
        Assert.Contains("account token", reply.Text);
    }

    [Fact]
    public async Task AuthIsNeitherOfferedNorAcceptedBeforeStartTls()
    {
        var t = await _host.CreateTenantAsync();
        var (d, greeting) = await SmtpDialog.OpenAsync(_host.Port());
        await using var _d = d;
        Assert.Equal(220, greeting.Code);
        var ehlo = await d.SendAsync("EHLO client.test");
        Assert.Contains("STARTTLS", ehlo.Text);
        Assert.Contains("PIPELINING", ehlo.Text);
        Assert.Contains("SIZE 10485760", ehlo.Text);
        Assert.Contains("8BITMIME", ehlo.Text);
        Assert.Contains("SMTPUTF8", ehlo.Text);
        Assert.DoesNotContain("AUTH", ehlo.Text);

        var auth = await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)));
        Assert.Equal(538, auth.Code);
        Assert.StartsWith("5.7.11 ", auth.Text);
        Assert.Equal(538, (await d.SendAsync("AUTH LOGIN")).Code);

        Assert.Equal(220, (await d.StartTlsAsync()).Code);
        Assert.Equal(SslProtocols.Tls13, d.Protocol);
        var secure = await d.SendAsync("EHLO client.test");
        Assert.Contains("AUTH PLAIN LOGIN", secure.Text);
        Assert.DoesNotContain("STARTTLS", secure.Text);
        Assert.Equal(235, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)))).Code);
    }

    [Fact]
    public async Task PlainTextAuthCanBeAllowed()
    {
        await using var host = await SmtpHost.StartAsync(s => s with { SmtpAllowPlainAuth = true });
        var t = await host.CreateTenantAsync();
        using var client = await host.ClientAsync(t.Server.ApiTokens[0], SecureSocketOptions.None);
        Assert.False(client.IsSecure);
        SmtpHost.QueuedId(await client.SendAsync(SmtpHost.Message()));
    }

    [Fact]
    public async Task NothingIsRelayedWithoutAuth()
    {
        var (d, _) = await DialogAsync(tls: true);
        await using (d)
        {
            var mail = await d.SendAsync("MAIL FROM:<app@mailroom.test>");
            Assert.Equal(530, mail.Code);
            Assert.StartsWith("5.7.0 ", mail.Text);
            // Out of sequence: the library's state table answers 501 ("expected ...") rather than RFC 5321's 503.
            Assert.InRange((await d.SendAsync("RCPT TO:<victim@example.net>")).Code, 501, 503);
            Assert.InRange((await d.SendAsync("DATA")).Code, 501, 503);
        }
        using var client = await _host.ClientAsync(null);
        // MailKit reads 530 as "authenticate first".
        await Assert.ThrowsAsync<ServiceNotAuthenticatedException>(() => client.SendAsync(SmtpHost.Message()));
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task AServerWithSmtpTurnedOffRefusesAuth()
    {
        var t = await _host.CreateTenantAsync();
        var off = await t.ServerApi.PutAsJsonAsync("/server", new { SmtpApiActivated = false }).OkJson();
        Assert.False(off.GetProperty("SmtpApiActivated").GetBoolean());
        var (d, _) = await DialogAsync(tls: true);
        await using var _d = d;
        var reply = await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)));
        Assert.Equal(535, reply.Code);
        Assert.StartsWith("5.7.8 SMTP is turned off for this server", reply.Text);
    }

    [Fact]
    public async Task RepeatedAuthFailuresFromOneAddressAreThrottled()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true);
        await using (d)
        {
            for (var i = 0; i < 5; i++)
                Assert.Equal(535, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain("guess" + i, "guess" + i))).Code);
            var blocked = await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)));
            Assert.Equal(454, blocked.Code);
            Assert.StartsWith("4.7.0 ", blocked.Text);
        }
        // Another connection from the same address is refused too, until the block expires.
        var (again, _) = await DialogAsync(tls: true);
        await using (again)
        {
            Assert.Equal(454, (await again.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)))).Code);
            _host.Clock.Advance(TimeSpan.FromMinutes(15));
            Assert.Equal(235, (await again.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)))).Code);
        }
    }

    [Fact]
    public async Task ControlHeadersAreHonouredAndRemoved()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var message = SmtpHost.Message(subject: "Welcome");
        message.Body = new TextPart("html") { Text = "<p>Hi <a href=\"https://example.org/\">there</a></p>" };
        message.Headers.Add("X-PM-Message-Stream", "broadcast");
        message.Headers.Add("X-PM-Tag", "welcome");
        message.Headers.Add("X-PM-Metadata-order", "42");
        message.Headers.Add("X-PM-Metadata-color", "red");
        message.Headers.Add("X-PM-Metadata-color", "blue");
        message.Headers.Add("X-PM-TrackOpens", "true");
        message.Headers.Add("X-PM-TrackLinks", "HtmlOnly");
        message.Headers.Add("X-PM-Something-New", "x");
        message.Headers.Add("X-Keep-Me", "yes");
        var id = SmtpHost.QueuedId(await client.SendAsync(message));

        var stored = await _host.StoredAsync(id);
        Assert.Equal("broadcast", stored.Stream);
        Assert.Equal("welcome", stored.Tag);
        Assert.True(stored.TrackOpens);
        Assert.Equal("HtmlOnly", stored.TrackLinks);
        var mime = stored.Mime();
        Assert.DoesNotContain(mime.Headers, h => h.Field.StartsWith("X-PM-", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain("X-PM-", Encoding.UTF8.GetString(stored.Mime!), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("yes", mime.Headers["X-Keep-Me"]);

        // The Messages API lists it in its stream, with tag, metadata and tracking.
        Assert.Equal(0, (await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&messagestream=broadcast").OkJson();
        var m = Assert.Single(list.GetProperty("Messages").EnumerateArray());
        Assert.Equal("broadcast", m.GetProperty("MessageStream").GetString());
        Assert.Equal("welcome", m.GetProperty("Tag").GetString());
        Assert.True(m.GetProperty("TrackOpens").GetBoolean());
        Assert.Equal("HtmlOnly", m.GetProperty("TrackLinks").GetString());
        var metadata = m.GetProperty("Metadata").Deserialize<Dictionary<string, string>>()!;
        Assert.Equal(new Dictionary<string, string> { ["order"] = "42", ["color"] = "red", ["color1"] = "blue" }, metadata);
        var byTag = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&messagestream=broadcast&tag=welcome&metadata_order=42").OkJson();
        Assert.Equal(1, byTag.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task HyphenatedTrackingHeadersAreReadToo()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var message = SmtpHost.Message();
        message.Headers.Add("X-PM-Track-Opens", "TRUE");
        message.Headers.Add("X-PM-Track-Links", "HtmlAndText");
        var stored = await _host.StoredAsync(SmtpHost.QueuedId(await client.SendAsync(message)));
        Assert.True(stored.TrackOpens);
        Assert.Equal("HtmlAndText", stored.TrackLinks);
        Assert.DoesNotContain(stored.Mime().Headers, h => h.Field.StartsWith("X-PM-", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("X-PM-TrackLinks", "Sometimes", "Invalid 'X-PM-TrackLinks'")]
    [InlineData("X-PM-TrackOpens", "maybe", "Invalid 'X-PM-TrackOpens'")]
    [InlineData("X-PM-Metadata-this-key-is-far-too-long", "v", "Metadata key")]
    public async Task AControlHeaderTheApiWouldRefuseRefusesTheMessage(string name, string value, string text)
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var message = SmtpHost.Message();
        message.Headers.Add(name, value);
        var e = await client.RefusedAsync(message, (SmtpStatusCode)554, "5.6.0");
        Assert.Contains(text, e.Message);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task TheMessageIdIsOursUnlessKeepIdIsTrue()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var replaced = SmtpHost.Message();
        replaced.MessageId = "client-1@app.example";
        var id = SmtpHost.QueuedId(await client.SendAsync(replaced));
        var mime = (await _host.StoredAsync(id)).Mime();
        Assert.Equal($"{id}@mailroom.test", mime.MessageId);
        Assert.Single(mime.Headers, h => h.Id == HeaderId.MessageId);

        var kept = SmtpHost.Message();
        kept.MessageId = "client-2@app.example";
        kept.Headers.Add("X-PM-KeepID", "true");
        var keptId = SmtpHost.QueuedId(await client.SendAsync(kept));
        var keptMime = (await _host.StoredAsync(keptId)).Mime();
        Assert.Equal("client-2@app.example", keptMime.MessageId);
        Assert.Null(keptMime.Headers["X-PM-KeepID"]);
    }

    [Theory]
    [InlineData("nope", "was not found: 'nope'")]
    [InlineData("inbound", "is an inbound stream")]
    public async Task AStreamThatCannotSendIsRefused(string stream, string text)
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var message = SmtpHost.Message();
        message.Headers.Add("X-PM-Message-Stream", stream);
        var e = await client.RefusedAsync(message, SmtpStatusCode.MailboxUnavailable, "5.7.1");
        Assert.Contains(text, e.Message);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task AnArchivedStreamIsRefused()
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "news", Name = "News", MessageStreamType = "Broadcasts" }).OkJson();
        await t.ServerApi.PostAsync("/message-streams/news/archive", null).OkJson();
        using var client = await _host.ClientAsync(Token(t));
        var message = SmtpHost.Message();
        message.Headers.Add("X-PM-Message-Stream", "news");
        await client.RefusedAsync(message, SmtpStatusCode.MailboxUnavailable, "5.7.1");
    }

    [Fact]
    public async Task AFromAddressTheAccountMayNotUseIsRefusedWithTheApiText()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        var e = await client.RefusedAsync(SmtpHost.Message(from: "ceo@not-ours.example"), SmtpStatusCode.MailboxUnavailable, "5.7.1");
        // The same words the Email API gives.
        var api = await t.ServerApi.PostAsJsonAsync("/email", new { From = "ceo@not-ours.example", To = "jo@example.net", TextBody = "x" }).Error(422, 400);
        Assert.Contains(api, e.Message);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task TheFromFieldMustHoldOneValidAddress()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        var none = await TransactionAsync(d, "To: jo@example.net\nSubject: x\n\nbody", "jo@example.net");
        Assert.Equal(550, none.Code);
        Assert.StartsWith("5.1.7 Invalid 'From' address", none.Text);
        var two = await TransactionAsync(d, "From: a@mailroom.test, b@mailroom.test\nTo: jo@example.net\n\nbody", "jo@example.net");
        Assert.Equal(550, two.Code);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task BccComesFromTheEnvelopeAndNoBccFieldIsKept()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        var reply = await TransactionAsync(d,
            "From: app@mailroom.test\nTo: Jo <jo@example.net>\nCc: al@example.net\nBcc: hidden@example.net\nSubject: Bcc\n\nbody",
            "jo@example.net", "al@example.net", "hidden@example.net", "secret@example.net");
        Assert.Equal(250, reply.Code);
        var stored = await _host.StoredAsync(SmtpHost.QueuedId(reply.Text));
        Assert.Equal(["jo@example.net", "al@example.net", "hidden@example.net", "secret@example.net"], JsonSerializer.Deserialize<List<string>>(stored.RecipientsJson));
        Assert.Contains("\"Name\":\"Jo\"", stored.ToJson);
        Assert.Contains("al@example.net", stored.CcJson);
        Assert.Contains("hidden@example.net", stored.BccJson);
        Assert.Contains("secret@example.net", stored.BccJson);
        Assert.DoesNotContain("jo@example.net", stored.BccJson);
        Assert.Null(stored.Mime().Headers[HeaderId.Bcc]);
        Assert.DoesNotContain("secret@example.net", Encoding.UTF8.GetString(stored.Mime!));

        // MailKit: envelope recipients that no header names are Bcc too.
        using var client = await _host.ClientAsync(Token(t));
        var m = SmtpHost.Message();
        var id = SmtpHost.QueuedId(await client.SendAsync(m, MailboxAddress.Parse("app@mailroom.test"),
            [MailboxAddress.Parse("jo@example.net"), MailboxAddress.Parse("quiet@example.net")]));
        Assert.Contains("quiet@example.net", (await _host.StoredAsync(id)).BccJson);
    }

    [Fact]
    public async Task AtMost50RecipientsThenA452()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
        for (var i = 0; i < 50; i++)
            Assert.Equal(250, (await d.SendAsync($"RCPT TO:<r{i}@example.net>")).Code);
        var over = await d.SendAsync("RCPT TO:<r50@example.net>");
        Assert.Equal(452, over.Code);
        Assert.StartsWith("4.5.3 Too many recipients", over.Text);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        var reply = await d.SendAsync("From: app@mailroom.test\r\nTo: r0@example.net\r\n\r\nbody\r\n.");
        Assert.Equal(250, reply.Code);
        Assert.Equal(50, JsonSerializer.Deserialize<List<string>>((await _host.StoredAsync(SmtpHost.QueuedId(reply.Text))).RecipientsJson)!.Count);
        // A new transaction counts from zero.
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<again@example.net>")).Code);
    }

    [Fact]
    public async Task AMessageOverTheSizeLimitIsRefusedAndTheSessionGoesOn()
    {
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        var declared = await d.SendAsync("MAIL FROM:<app@mailroom.test> SIZE=20000000");
        Assert.Equal(552, declared.Code);
        Assert.StartsWith("5.3.4 ", declared.Text);

        // Undeclared: the content is read to its end and dropped, then refused.
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<jo@example.net>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        await d.WriteAsync("From: app@mailroom.test\r\nTo: jo@example.net\r\nSubject: big\r\n\r\n");
        var line = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
        var chunk = new byte[line.Length * 1000];
        for (var i = 0; i < 1000; i++)
            line.CopyTo(chunk, i * line.Length);
        for (var i = 0; i < 11; i++) // ~11 MB
            await d.WriteAsync(chunk);
        var big = await d.SendAsync(".");
        Assert.Equal(552, big.Code);
        Assert.StartsWith("5.3.4 ", big.Text);

        // In step still: the next transaction is accepted.
        var ok = await TransactionAsync(d, "From: app@mailroom.test\nTo: jo@example.net\nSubject: small\n\nbody", "jo@example.net");
        Assert.Equal(250, ok.Code);
        Assert.Equal(1, await _host.StoredCountAsync());

        using var client = await _host.ClientAsync(Token(t));
        Assert.Equal(10 * 1024 * 1024, (int)client.MaxSize);
    }

    [Fact]
    public async Task SuppressedRecipientsAreLeftOutAndAllSuppressedIsRefused()
    {
        var t = await _host.CreateTenantAsync();
        await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.Suppressions.Add(new Suppression { ServerId = t.Server.ID, Stream = "outbound", Email = "gone@example.net", Reason = SuppressionReason.HardBounce });
            return await db.SaveChangesAsync();
        });
        using var client = await _host.ClientAsync(Token(t));
        var both = SmtpHost.Message();
        var id = SmtpHost.QueuedId(await client.SendAsync(both, MailboxAddress.Parse("app@mailroom.test"),
            [MailboxAddress.Parse("jo@example.net"), MailboxAddress.Parse("Gone@example.net")]));
        Assert.Equal(["jo@example.net"], JsonSerializer.Deserialize<List<string>>((await _host.StoredAsync(id)).RecipientsJson));

        var e = await client.RefusedAsync(SmtpHost.Message(to: "gone@example.net"), SmtpStatusCode.MailboxUnavailable, "5.1.1");
        Assert.Contains("inactive", e.Message);
    }

    [Fact]
    public async Task ManyMessagesPipelineOverOneConnection()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(Token(t));
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        var ids = new List<Guid>();
        for (var i = 0; i < 20; i++)
            ids.Add(SmtpHost.QueuedId(await client.SendAsync(SmtpHost.Message(subject: "n" + i))));
        await client.DisconnectAsync(true);
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Equal(20, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task RepliesToAPipelinedGroupComeTogetherInOrder()
    {
        // RFC 2920 §3.1: the server may hold replies while more commands wait; Mailroom sends them when it next waits
        // for the client, so MAIL, RCPT and DATA sent in one packet are answered in one (one TLS record here).
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        await d.WriteAsync("MAIL FROM:<app@mailroom.test>\r\nRCPT TO:<jo@example.net>\r\nRCPT TO:<al@example.net>\r\nDATA\r\n");
        var replies = (await d.ReadOnceAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["250", "250", "250", "354"], replies.Select(r => r[..3]));
        var stored = await d.SendAsync("From: app@mailroom.test\r\nTo: jo@example.net\r\nSubject: piped\r\n\r\nbody\r\n.");
        Assert.Equal(250, stored.Code);
        Assert.Equal(1, await _host.StoredCountAsync());

        // Held replies still go out when the session ends: the 221 to a pipelined QUIT.
        await d.WriteAsync("RSET\r\nQUIT\r\n");
        Assert.Equal(250, (await d.ReadAsync()).Code);
        Assert.Equal(221, (await d.ReadAsync()).Code);
    }

    [Fact]
    public async Task TheBodyIsStoredAsSentWithDotStuffingUndone()
    {
        // RFC 5321 §4.5.2: a line that starts with "." was sent with one more; the stored body has it once.
        var t = await _host.CreateTenantAsync();
        var (d, _) = await DialogAsync(tls: true, token: Token(t));
        await using var _d = d;
        var body = "First line\r\n.starts with a dot\r\n..two dots\r\n.\r\n \r\nLast line, no dot\r\n";
        var stuffed = string.Join("\r\n", body.Split("\r\n").Select(l => l.StartsWith('.') ? "." + l : l));
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<jo@example.net>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        var reply = await d.SendAsync("From: app@mailroom.test\r\nTo: jo@example.net\r\nSubject: dots\r\n\r\n" + stuffed + ".");
        Assert.Equal(250, reply.Code);
        var mime = Encoding.ASCII.GetString((await _host.StoredAsync(SmtpHost.QueuedId(reply.Text))).Mime!);
        Assert.Equal(body, mime[(mime.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    [Fact]
    public async Task MalformedInputGets5xxRepliesAndTheServerStaysUp()
    {
        var t = await _host.CreateTenantAsync();
        // PROXY (HAProxy's protocol) would let a client choose the address AUTH failures are counted by.
        var (proxy, _) = await SmtpDialog.OpenAsync(_host.Port());
        await using (proxy)
        {
            var refused = await proxy.SendAsync("PROXY TCP4 10.0.0.1 127.0.0.1 1234 25");
            Assert.Equal(500, refused.Code);
            Assert.StartsWith("5.5.1 ", refused.Text);
        }

        var (d, _) = await DialogAsync(tls: true);
        await using (d)
        {
            Assert.InRange((await d.SendAsync("FROB")).Code, 500, 503);
            Assert.InRange((await d.SendAsync("MAIL FROM:<<<>>>")).Code, 500, 553);
            Assert.InRange((await d.SendAsync("AUTH PLAIN ***not-base64***")).Code, 500, 504);
            var undecodable = await d.SendAsync("AUTH PLAIN abc");
            Assert.Equal(501, undecodable.Code);
            Assert.StartsWith("5.5.2 ", undecodable.Text);
            Assert.InRange((await d.SendAsync("DATA")).Code, 501, 503);
            Assert.Equal(235, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(Token(t), Token(t)))).Code);
            Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
            var bad = await d.SendAsync("RCPT TO:<not an address>");
            Assert.InRange(bad.Code, 500, 553);
        }

        // A command line longer than the limit: 500 5.5.2, then the connection closes.
        var (longLine, _) = await DialogAsync();
        await using (longLine)
        {
            await longLine.WriteAsync("NOOP " + new string('a', 20_000));
            var reply = await longLine.ReadAsync();
            Assert.Equal(500, reply.Code);
            Assert.StartsWith("5.5.2 ", reply.Text);
            Assert.Equal(0, (await longLine.ReadAsync()).Code);
        }

        // An AUTH continuation line that is not base64: the library drops the connection (no reply); nothing else
        // is affected.
        var (badAuth, _) = await DialogAsync(tls: true);
        await using (badAuth)
        {
            Assert.Equal(334, (await badAuth.SendAsync("AUTH LOGIN")).Code);
            var after = await badAuth.SendAsync("!!! not base64 !!!");
            Assert.True(after.Code is 0 or >= 500, $"unexpected reply {after}");
        }

        using var client = await _host.ClientAsync(Token(t));
        SmtpHost.QueuedId(await client.SendAsync(SmtpHost.Message()));
    }
}

/// <summary>Limits that need a host of their own (the connection count is per process).</summary>
public sealed class SmtpConnectionLimitTests
{
    [Fact]
    public async Task ConnectionsOverThePerAddressLimitGet421()
    {
        await using var host = await SmtpHost.StartAsync(configure: b =>
            b.Services.AddKeyedSingleton(SmtpListenerLimits.SubmissionKey, SmtpListenerLimits.Submission with { MaxConnectionsPerAddress = 2 }));
        var (a, ga) = await SmtpDialog.OpenAsync(host.Port());
        var (b, gb) = await SmtpDialog.OpenAsync(host.Port());
        Assert.Equal(220, ga.Code);
        Assert.Equal(220, gb.Code);
        var (c, gc) = await SmtpDialog.OpenAsync(host.Port());
        Assert.Equal(421, gc.Code);
        Assert.StartsWith("4.7.0 Too many connections", gc.Text);
        await c.DisposeAsync();

        Assert.Equal(221, (await a.SendAsync("QUIT")).Code);
        await a.DisposeAsync();
        await Eventually.True(async () =>
        {
            var (d, g) = await SmtpDialog.OpenAsync(host.Port());
            await d.DisposeAsync();
            return g.Code == 220;
        });
        await b.DisposeAsync();
    }
}

/// <summary>SmtpLoopbackToken: for load tools that cannot AUTH (bench/smtp); off unless set.</summary>
public sealed class SmtpLoopbackTokenTests
{
    private const string Token = "0bench00-0000-4000-8000-000000000001";

    [Fact]
    public async Task LoopbackClientsWithoutAuthSendAsTheConfiguredToken()
    {
        await using var host = await SmtpHost.StartAsync(s => s with { SmtpLoopbackToken = Token });
        var t = await host.CreateTenantAsync();
        await host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.ServerTokens.Add(new Mailroom.Core.Accounts.ServerToken
            {
                ServerId = t.Server.ID,
                TokenHash = Mailroom.Core.Secrets.Hash(Token),
                ProtectedToken = sp.GetRequiredService<Mailroom.Core.Secrets>().ProtectToken(Token),
            });
            return await db.SaveChangesAsync();
        });
        var (d, _) = await SmtpDialog.OpenAsync(host.Port());
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("EHLO load.test")).Code);
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<jo@example.net>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        var reply = await d.SendAsync("From: app@mailroom.test\r\nTo: jo@example.net\r\nSubject: load\r\n\r\nbody\r\n.");
        Assert.Equal(250, reply.Code);
        var stored = await host.StoredAsync(SmtpHost.QueuedId(reply.Text));
        Assert.Equal(t.Server.ID, stored.ServerId);
    }

    [Fact]
    public async Task AWrongLoopbackTokenStillRefusesMail()
    {
        await using var host = await SmtpHost.StartAsync(s => s with { SmtpLoopbackToken = Token });
        var (d, _) = await SmtpDialog.OpenAsync(host.Port());
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("EHLO load.test")).Code);
        Assert.Equal(535, (await d.SendAsync("MAIL FROM:<app@mailroom.test>")).Code);
    }
}
