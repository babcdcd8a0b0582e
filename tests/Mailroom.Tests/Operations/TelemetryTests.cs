using System.Collections.Concurrent;
using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Smtp;
using Mailroom.Tests.Smtp;
using Microsoft.Extensions.Logging;

namespace Mailroom.Tests.Operations;

/// <summary>Captures every log event of a host: its formatted text, its state's values and its exception.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void Dispose() { }

    public string All => string.Join("\n", Events.Select(e => $"{e.Category} {e.Level} {e.Text}"));

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Events.Enqueue((category, logLevel, $"{formatter(state, exception)} | {values} | {exception}"));
        }
    }
}

public sealed class TelemetryTests
{
    private static async Task<Guid> SendAsync(Tenant t, string to, string text = "Hi")
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = "Hello", TextBody = text }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    private static async Task DeliverAllAsync(MailroomHost host)
    {
        await host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        await host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);
    }

    [Fact]
    public async Task MetricsAreOffByDefault()
    {
        await using var host = await MailroomHost.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client().GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task MetricsEndpointExportsQueueDeliveryAndHttpFigures()
    {
        await using var sink = new SmtpSink();
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Metrics = "on", Relay = $"127.0.0.1:{sink.Port}" });
        var t = await host.CreateTenantAsync();
        await SendAsync(t, "jo@example.net");
        await SendAsync(t, "al@example.org");
        await DeliverAllAsync(host);
        await SendAsync(t, "waiting@example.net"); // stays queued: the gauges see it

        var text = await host.Client().GetStringAsync("/metrics");
        Assert.Matches("""mailroom_messages_accepted_total\{[^}]*stream="outbound"[^}]*\} [1-9]""", text);
        Assert.Matches("""mailroom_messages_prepared_total(\{[^}]*\})? [1-9]""", text);
        Assert.Matches("""mailroom_messages_delivered_total\{[^}]*stream="outbound"[^}]*\} [1-9]""", text);
        Assert.Matches("""mailroom_delivery_attempts_total\{[^}]*domain="example\.net"[^}]*reply_class="2xx"[^}]*\} [1-9]""", text);
        Assert.Contains("mailroom_delivery_attempt_duration_seconds_bucket", text);
        Assert.Contains("mailroom_queue_commit_duration_seconds_bucket", text);
        Assert.Matches("""mailroom_queue_unprepared(\{[^}]*\})? 1""", text);
        Assert.Contains("mailroom_queue_depth", text);
        Assert.Contains("mailroom_queue_oldest_age_seconds", text);
        Assert.Contains("http_server_request_duration_seconds_bucket", text);
        // /metrics is not an API operation.
        var doc = await host.Client().GetStringAsync("/openapi/v1.json");
        Assert.DoesNotContain("\"/metrics\"", doc);
    }

    [Fact]
    public void MetricsSettingTakesOffOnOrAnAddress()
    {
        MailroomSettings Resolve(string v) => MailroomSettings.Resolve(new Dictionary<string, string?> { ["Metrics"] = v }, null, _ => null);
        Assert.Equal("off", MailroomSettings.Resolve(new Dictionary<string, string?>(), null, _ => null).Metrics);
        Assert.Equal("on", Resolve("ON").Metrics);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 9464), Mailroom.Operations.Telemetry.MetricsEndpoint(Resolve("127.0.0.1:9464")));
        Assert.Throws<ArgumentException>(() => Resolve("sometimes"));
        Assert.Throws<ArgumentException>(() => MailroomSettings.Resolve(new Dictionary<string, string?> { ["LogFormat"] = "xml" }, null, _ => null));
        Assert.Throws<ArgumentException>(() => MailroomSettings.Resolve(new Dictionary<string, string?> { ["OtlpEndpoint"] = "collector:4317" }, null, _ => null));
    }

    [Fact]
    public async Task LogFormatJsonWritesOneJsonObjectPerEvent()
    {
        await using var server = await MailroomProcess.StartAsync(["--log-format", "json", "--roles", "api"]);
        await Eventually.True(() => Task.FromResult(server.Output.Contains("Database ready", StringComparison.Ordinal)), timeoutSeconds: 30);
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith('{')).ToList();
        var ready = lines.Select(l => JsonDocument.Parse(l).RootElement).First(e => e.GetProperty("Message").GetString()!.StartsWith("Database ready", StringComparison.Ordinal));
        Assert.Equal("Information", ready.GetProperty("LogLevel").GetString());
        Assert.True(ready.TryGetProperty("Timestamp", out _));
        Assert.Equal("Mailroom.Workers.StartupMigrator", ready.GetProperty("Category").GetString());
    }

    [Fact]
    public async Task LogsOneEventPerDeliveryAttemptAndNoSecretsOrBodies()
    {
        var logs = new CapturedLogs();
        await using var sink = new SmtpSink();
        await using var host = await SmtpHost.StartAsync(s => s with { Relay = $"127.0.0.1:{sink.Port}", Metrics = "on" },
            b => b.Logging.AddProvider(logs));
        var t = await host.CreateTenantAsync();
        const string apiBody = "api-body-7f3a9c do not log me";
        const string smtpBody = "smtp-body-51be02 do not log me";
        var apiId = await SendAsync(t, "jo@example.net", apiBody);
        var smtpToken = await t.ServerApi.PostAsync("/message-streams/outbound/smtp-tokens", null).OkJson();
        var (access, secret) = (smtpToken.GetProperty("AccessKey").GetString()!, smtpToken.GetProperty("SecretKey").GetString()!);
        using (var client = await host.ClientAsync(null))
        {
            await client.AuthenticateAsync(access, secret);
            await client.SendAsync(SmtpHost.Message(to: "al@example.org", text: smtpBody));
            await client.DisconnectAsync(true);
        }
        using (var wrong = await host.ClientAsync(null))
            await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => wrong.AuthenticateAsync(access, "wrong-secret-e1d2"));
        await DeliverAllAsync(host);
        Assert.Equal(2, sink.Messages.Count);

        var all = logs.All;
        var attempts = logs.Events.Where(e => e.Text.StartsWith("Delivery ", StringComparison.Ordinal) && e.Level == LogLevel.Information).ToList();
        Assert.Equal(2, attempts.Count);
        var api = Assert.Single(attempts, a => a.Text.Contains(apiId.ToString(), StringComparison.Ordinal));
        Assert.Contains("Outcome=delivered", api.Text);
        Assert.Contains("Stream=outbound", api.Text);
        Assert.Contains("Recipient=jo@example.net", api.Text);
        Assert.Contains("SmtpCode=250", api.Text);
        Assert.Contains("DurationMs=", api.Text);
        Assert.Contains("mailroom_smtp_session_duration_seconds_bucket", await host.Client().GetStringAsync("/metrics"));
        foreach (var secretText in new[] { t.Account.AccountToken, t.Server.ApiTokens[0], secret, "wrong-secret-e1d2", apiBody, smtpBody, "api-body-7f3a9c", "smtp-body-51be02" })
            Assert.False(all.Contains(secretText, StringComparison.Ordinal), $"the logs contain '{secretText}'");
    }
}

/// <summary>One trace per message: accept → prepare → deliver spans share the message's trace, whatever batch or round
/// carried it (the accept span's traceparent is stored with the message).</summary>
public sealed class MessageTraceTests
{
    [Fact]
    public async Task AcceptPrepareAndDeliverSpansOfAMessageShareItsTrace()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == Mailroom.Core.MailroomMetrics.Name,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var sink = new SmtpSink();
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{sink.Port}" });
        var t = await host.CreateTenantAsync();
        var first = Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "A", TextBody = "Hi" }).OkJson())
            .GetProperty("MessageID").GetString()!);
        var second = Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "al@example.net", Subject = "B", TextBody = "Hi" }).OkJson())
            .GetProperty("MessageID").GetString()!);
        await host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        await host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);

        // Other tests run beside this one and the listener hears their spans too: look at these two messages only.
        List<System.Diagnostics.Activity> Of(Guid id) => spans.Where(a => a.GetTagItem("mailroom.message_id") as string == id.ToString()).ToList();
        foreach (var id in new[] { first, second })
        {
            var path = Of(id);
            var accept = Assert.Single(path, a => a.OperationName == "mailroom.accept");
            var prepare = Assert.Single(path, a => a.OperationName == "mailroom.prepare.message");
            var deliver = Assert.Single(path, a => a.OperationName == "mailroom.deliver.recipient");
            Assert.Equal(accept.TraceId, prepare.TraceId);
            Assert.Equal(accept.TraceId, deliver.TraceId);
            Assert.Equal(accept.SpanId, prepare.ParentSpanId);
            Assert.Equal(accept.SpanId, deliver.ParentSpanId);
            Assert.Equal("delivered", deliver.GetTagItem("mailroom.outcome"));
            Assert.Equal(250, deliver.GetTagItem("smtp.reply_code"));
        }
        // Two requests, two traces, though one preparation batch and one delivery round carried both.
        Assert.NotEqual(Of(first)[0].TraceId, Of(second)[0].TraceId);
    }
}
