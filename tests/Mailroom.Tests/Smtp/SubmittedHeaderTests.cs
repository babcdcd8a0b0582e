using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Smtp;

/// <summary>
/// Issue 10, defect 5: SMTP submission and the Email API apply one header rule set (<c>HeaderRules</c>). Each case
/// sends the same header field both ways: over the API as a <c>Headers</c> entry, over SMTP as a line of the message,
/// and checks what each path answers and what the stored message (the Messages API dump) holds.
/// </summary>
public sealed class SubmittedHeaderTests : IAsyncLifetime
{
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await SmtpHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    public enum Smtp { Refused, Stripped }

    private const string Long = "{200000 x}";

    /// <summary>AUTHed raw dialog over STARTTLS.</summary>
    private async Task<SmtpDialog> DialogAsync(Tenant t)
    {
        var (d, _) = await SmtpDialog.OpenAsync(_host.Port());
        Assert.Equal(250, (await d.SendAsync("EHLO client.test")).Code);
        Assert.Equal(220, (await d.StartTlsAsync()).Code);
        Assert.Equal(250, (await d.SendAsync("EHLO client.test")).Code);
        var token = t.Server.ApiTokens[0];
        Assert.Equal(235, (await d.SendAsync("AUTH PLAIN " + SmtpDialog.Plain(token, token))).Code);
        return d;
    }

    /// <summary>One transaction; <paramref name="headers"/> are written byte for byte (UTF-8), each line ended by CRLF.</summary>
    private static async Task<Reply> SendAsync(SmtpDialog d, string headers, string mailParameters = "", string recipient = "jo@example.net", string body = "Hello")
    {
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<bounces@app.example>" + mailParameters)).Code);
        var rcpt = await d.SendAsync($"RCPT TO:<{recipient}>");
        if (rcpt.Code != 250)
            return rcpt;
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        await d.WriteAsync("From: app@mailroom.test\r\nTo: jo@example.net\r\n" + headers + "\r\n" + body + "\r\n");
        return await d.SendAsync(".");
    }

    private async Task<string> DumpAsync(Tenant t, string reply) =>
        (await t.ServerApi.GetAsync($"/messages/outbound/{SmtpHost.QueuedId(reply)}/dump").OkJson()).GetProperty("Body").GetString()!;

    private static string HeaderSection(string dump) => dump[..dump.IndexOf("\r\n\r\n", StringComparison.Ordinal)];

    [Theory]
    [InlineData("Sender", "Boss <boss@elsewhere.example>", Smtp.Refused)]
    [InlineData("Return-Path", "<bounce@elsewhere.example>", Smtp.Stripped)]
    [InlineData("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=elsewhere.example; s=s1; h=from:to:subject; bh=AAAA; b=BBBB", Smtp.Stripped)]
    [InlineData("Authentication-Results", "mx.elsewhere.example; dkim=pass header.d=elsewhere.example", Smtp.Stripped)]
    [InlineData("ARC-Seal", "i=1; a=rsa-sha256; cv=none; d=elsewhere.example; s=s1; b=CCCC", Smtp.Stripped)]
    [InlineData("Delivered-To", "jo@example.net", Smtp.Stripped)]
    [InlineData("X-Nul", "a\0b", Smtp.Refused)]
    [InlineData("X-Bell", "a\u0007b", Smtp.Refused)]
    [InlineData("X-Bare-CR", "a\rb", Smtp.Refused)]
    [InlineData("X-Bare-LF", "a\nb", Smtp.Refused)]
    [InlineData("X-Long", Long, Smtp.Refused)]
    public async Task AHeaderFieldIsRefusedOrStrippedAsTheRuleSetSaysOnBothPaths(string name, string value, Smtp smtp)
    {
        if (value == Long)
            value = new string('x', 200_000);
        var t = await _host.CreateTenantAsync();

        // The Email API refuses each of them in Headers (300), with words that name the field.
        var api = await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = "jo@example.net", Subject = "Hi", TextBody = "Hello",
            Headers = new[] { new { Name = name, Value = value } },
        }).Error(422, 300);
        Assert.Contains(name, api);

        await using var d = await DialogAsync(t);
        var reply = await SendAsync(d, $"Subject: Hi\r\n{name}: {value}\r\n");
        if (smtp == Smtp.Refused)
        {
            // The API's words, as a permanent media error (RFC 3463 5.6.0).
            Assert.Equal(554, reply.Code);
            Assert.StartsWith("5.6.0 ", reply.Text);
            Assert.True(reply.Text.Contains(api), $"SMTP [{reply.Text}] API [{api}]");
            Assert.Equal(0, await _host.StoredCountAsync());
        }
        else
        {
            Assert.Equal(250, reply.Code);
            var dump = await DumpAsync(t, reply.Text);
            Assert.DoesNotContain("\n" + name + ":", "\n" + HeaderSection(dump), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Subject: Hi", dump);
        }
        // The session goes on either way.
        Assert.Equal(250, (await SendAsync(d, "Subject: next\r\n")).Code);
    }

    [Fact]
    public async Task TraceAndMimeFieldsOfASubmittedMessageAreKept()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        var reply = await SendAsync(d,
            "Subject: Kept\r\nReceived: from laptop.app.example by app.example; Sat, 5 Dec 2026 00:00:00 +0000\r\n" +
            "Resent-From: app@mailroom.test\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nX-Custom: yes\r\n");
        Assert.Equal(250, reply.Code);
        var headers = HeaderSection(await DumpAsync(t, reply.Text));
        Assert.Contains("Received: from laptop.app.example by app.example", headers);
        Assert.Contains("Resent-From: app@mailroom.test", headers);
        Assert.Contains("X-Custom: yes", headers);
        // Mailroom's own trace field comes first (RFC 5321 §4.4).
        Assert.StartsWith("Received: from client.test", headers);
    }

    [Fact]
    public async Task ALineOf998OctetsIsAcceptedAndOneOf999IsRefused()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        // RFC 5322 §2.1.1: 998 characters, excluding the CRLF.
        var ok = await SendAsync(d, "X-Edge: " + new string('y', 998 - "X-Edge: ".Length) + "\r\n");
        Assert.Equal(250, ok.Code);
        var over = await SendAsync(d, "X-Edge: " + new string('y', 999 - "X-Edge: ".Length) + "\r\n");
        Assert.Equal(554, over.Code);
        Assert.StartsWith("5.6.0 ", over.Text);
        Assert.Contains("998", over.Text);
    }

    [Theory]
    [InlineData("Subject: Grüße aus Köln\r\n")]
    [InlineData("Subject: Hi\r\nX-Note: naïve\r\n")]
    public async Task EightBitHeadersWithoutSmtpUtf8AreRefusedWith5_6_7(string headers)
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        var reply = await SendAsync(d, headers, mailParameters: " BODY=8BITMIME");
        Assert.Equal(550, reply.Code);
        Assert.StartsWith("5.6.7 ", reply.Text);
        Assert.Contains("SMTPUTF8", reply.Text);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task ANonAsciiFromWithoutSmtpUtf8IsRefusedWith5_6_7()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<bounces@app.example>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<jo@example.net>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        await d.WriteAsync("From: Jörg <jörg@mailroom.test>\r\nTo: jo@example.net\r\nSubject: Hi\r\n\r\nbody\r\n");
        var reply = await d.SendAsync(".");
        Assert.Equal(550, reply.Code);
        Assert.StartsWith("5.6.7 ", reply.Text);
        Assert.Equal(0, await _host.StoredCountAsync());
    }

    [Fact]
    public async Task ANonAsciiRecipientNeedsSmtpUtf8()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        var refused = await SendAsync(d, "Subject: Hi\r\n", recipient: "jörg@example.net");
        Assert.Equal(550, refused.Code);
        Assert.StartsWith("5.6.7 ", refused.Text);
        Assert.Equal(0, await _host.StoredCountAsync());

        var accepted = await SendAsync(d, "Subject: Hi\r\n", mailParameters: " SMTPUTF8", recipient: "jörg@example.net");
        Assert.Equal(250, accepted.Code);
        var stored = await _host.StoredAsync(SmtpHost.QueuedId(accepted.Text));
        Assert.Equal(["jörg@example.net"], System.Text.Json.JsonSerializer.Deserialize<List<string>>(stored.RecipientsJson));
    }

    [Fact]
    public async Task WithSmtpUtf8EightBitTextIsAcceptedAndStoredAsTheApiStoresIt()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        var reply = await SendAsync(d, "Subject: Grüße aus Köln\r\nX-Note: naïve\r\n", mailParameters: " SMTPUTF8 BODY=8BITMIME", body: "Schöne Grüße");
        Assert.Equal(250, reply.Code);
        var smtp = (await _host.StoredAsync(SmtpHost.QueuedId(reply.Text))).Mime();

        var api = await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = "jo@example.net", Subject = "Grüße aus Köln", TextBody = "Schöne Grüße",
            Headers = new[] { new { Name = "X-Note", Value = "naïve" } },
        }).OkJson();
        var composed = (await _host.StoredAsync(Guid.Parse(api.GetProperty("MessageID").GetString()!))).Mime();

        foreach (var m in new[] { smtp, composed })
        {
            Assert.Equal("Grüße aus Köln", m.Subject);
            Assert.Equal("naïve", m.Headers["X-Note"]);
            // RFC 2047 encoded-words: the header needs no SMTPUTF8 on the way out.
            Assert.All(m.Headers, h => Assert.True(Ascii.IsValid(h.RawValue), $"{h.Field} is not ASCII"));
        }
        // The trace field says the message came with SMTPUTF8 (RFC 6531 §4.3).
        Assert.Contains("with UTF8SMTPSA", smtp.Headers[HeaderId.Received]);
    }

    [Fact]
    public async Task MailKitSendsInternationalMessagesWithSmtpUtf8()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(t.Server.ApiTokens[0]);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.UTF8));
        var message = SmtpHost.Message(from: "Jörg <app@mailroom.test>", subject: "Grüße");
        var reply = await client.SendAsync(new FormatOptions { International = true }, message);
        var stored = (await _host.StoredAsync(SmtpHost.QueuedId(reply))).Mime();
        Assert.Equal("Grüße", stored.Subject);
        Assert.Equal("Jörg", stored.From.Mailboxes.Single().Name);
        Assert.Equal("app@mailroom.test", stored.From.Mailboxes.Single().Address);
    }

    [Fact]
    public async Task AnEightBitBodyWithoutBody8BitMimeIsAccepted()
    {
        var t = await _host.CreateTenantAsync();
        await using var d = await DialogAsync(t);
        var reply = await SendAsync(d, "Subject: Body\r\nContent-Type: text/plain; charset=utf-8\r\n", body: "Schöne Grüße");
        Assert.Equal(250, reply.Code);
        var stored = (await _host.StoredAsync(SmtpHost.QueuedId(reply.Text))).Mime();
        Assert.Equal("Schöne Grüße", stored.TextBody?.TrimEnd());
    }
}
