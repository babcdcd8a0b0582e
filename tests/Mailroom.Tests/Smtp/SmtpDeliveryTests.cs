using System.Diagnostics;
using MimeKit;

namespace Mailroom.Tests.Smtp;

/// <summary>
/// Submitted mail takes the same path as API mail: with the delivery role and a relay to a loopback sink, it is
/// prepared and delivered, without its control headers. And a real third-party client (swaks) can submit.
/// </summary>
public sealed class SmtpDeliveryTests : IAsyncLifetime
{
    private SmtpSink _sink = null!;
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _sink = new SmtpSink();
        _host = await SmtpHost.StartAsync(s => s with { Roles = "api,smtp,delivery", Relay = $"127.0.0.1:{_sink.Port}" });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sink.DisposeAsync();
    }

    [Fact]
    public async Task SubmittedMailIsDeliveredWithoutItsControlHeaders()
    {
        var t = await _host.CreateTenantAsync();
        using var client = await _host.ClientAsync(t.Server.ApiTokens[0]);
        var message = SmtpHost.Message(to: "jo@example.net", subject: "Delivered");
        message.Headers.Add("X-PM-Tag", "receipts");
        message.Headers.Add("X-PM-Metadata-order", "7");
        var id = SmtpHost.QueuedId(await client.SendAsync(message, MailboxAddress.Parse("app@mailroom.test"),
            [MailboxAddress.Parse("jo@example.net"), MailboxAddress.Parse("hidden@example.net")]));

        await Eventually.True(() => Task.FromResult(_sink.Messages.Count == 2), because: "both recipients delivered through the relay");
        var delivered = _sink.Messages.ToList();
        Assert.Equal(["hidden@example.net", "jo@example.net"], delivered.SelectMany(m => m.Recipients).Order());
        var mime = MimeMessage.Load(new MemoryStream(delivered[0].Data));
        Assert.Equal("Delivered", mime.Subject);
        Assert.Equal($"{id}@mailroom.test", mime.MessageId);
        Assert.DoesNotContain(mime.Headers, h => h.Field.StartsWith("X-PM-", StringComparison.OrdinalIgnoreCase));
        Assert.Null(mime.Headers[HeaderId.Bcc]);
        Assert.StartsWith("pm_bounces+" + id.ToString("N"), delivered[0].MailFrom);

        await Eventually.True(async () =>
        {
            var d = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
            return d.GetProperty("MessageEvents").EnumerateArray().Count(e => e.GetProperty("Type").GetString() == "Delivered") == 2;
        });
        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&status=sent&tag=receipts").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task SwaksSubmitsWithAuthOverStartTls()
    {
        const string swaks = "/usr/bin/swaks";
        Assert.SkipUnless(File.Exists(swaks), "swaks is not installed (.ci/run installs it)");
        var t = await _host.CreateTenantAsync();
        var token = t.Server.ApiTokens[0];
        var start = new ProcessStartInfo(swaks)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[]
                 {
                     "--server", $"127.0.0.1:{_host.Port()}", "--tls", "--auth", "PLAIN", "--auth-user", token, "--auth-password", token,
                     "--from", "app@mailroom.test", "--to", "jo@example.net", "--helo", "swaks.test",
                     "--header", "Subject: From swaks", "--header", "X-PM-Tag: swaks", "--body", "Sent by swaks.", "--timeout", "30",
                 })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var transcript = await output + await errors;
        Assert.True(process.ExitCode == 0, $"swaks exited with {process.ExitCode}:\n{transcript}");
        Assert.Contains("250 2.0.0 Ok: queued as", transcript);

        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&tag=swaks").OkJson();
        var m = Assert.Single(list.GetProperty("Messages").EnumerateArray());
        Assert.Equal("From swaks", m.GetProperty("Subject").GetString());
        var body = await t.ServerApi.GetAsync($"/messages/outbound/{m.GetProperty("MessageID").GetString()}/dump").OkJson();
        var dump = body.GetProperty("Body").GetString()!;
        Assert.Contains("with ESMTPSA", dump);
        Assert.Contains("from swaks.test", dump);
        Assert.DoesNotContain("X-PM-Tag", dump);
    }
}
