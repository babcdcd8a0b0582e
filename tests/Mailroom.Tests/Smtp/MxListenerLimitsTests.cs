using System.Net.Sockets;
using Mailroom.Smtp;

namespace Mailroom.Tests.Smtp;

/// <summary>
/// The MX listener faces anyone on the internet without AUTH: its size, line and connection limits, probed as an
/// attacker would with a raw client (issue 10). Reports go to the platform's return-path host, which the listener
/// manages without any tenant, so RCPT is accepted.
/// </summary>
public sealed class MxListenerLimitsTests : IAsyncLifetime
{
    private const string Rcpt = "pm_bounces+probe@pm-bounces.mailroom.test";
    private const int MxSize = 35 * 1024 * 1024;
    private MailroomHost _host = null!;
    private int _mxPort;

    public async ValueTask InitializeAsync()
    {
        _mxPort = SmtpSink.FreeTcpPort();
        _host = await MailroomHost.StartAsync(tweak: s => s with { Roles = "api,mx", Mx = $"127.0.0.1:{_mxPort}" });
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    /// <summary>Connects once the listener is bound (it binds in the background at start).</summary>
    internal static async Task<(SmtpDialog Dialog, Reply Greeting)> OpenAsync(int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await SmtpDialog.OpenAsync(port);
            }
            catch (SocketException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    private Task<int> ReportsAsync() =>
        _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().InboundReports.CountAsync());

    /// <summary>A bounce's envelope (null reverse-path, RFC 5321 §4.5.5) to the probe address, up to DATA's 354.</summary>
    internal static async Task BeginDataAsync(SmtpDialog d)
    {
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<>")).Code);
        Assert.Equal(250, (await d.SendAsync($"RCPT TO:<{Rcpt}>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
    }

    /// <summary>A small text report, whole transaction on an open dialog.</summary>
    internal static async Task<Reply> SmallReportAsync(SmtpDialog d)
    {
        await BeginDataAsync(d);
        return await d.SendAsync("From: mailer-daemon@mx.example.net\r\nTo: " + Rcpt + "\r\nSubject: Undelivered\r\n\r\nThe message could not be delivered.\r\n.");
    }

    /// <summary>Message content of about <paramref name="megabytes"/> MB, in 1 MB writes (lines of 998 octets).</summary>
    internal static async Task WriteContentAsync(SmtpDialog d, int megabytes)
    {
        await d.WriteAsync("From: mailer-daemon@mx.example.net\r\nTo: " + Rcpt + "\r\nSubject: big\r\n\r\n");
        var line = Encoding.ASCII.GetBytes(new string('x', 998) + "\r\n");
        var chunk = new byte[line.Length * 1048];
        for (var i = 0; i < 1048; i++)
            line.CopyTo(chunk, i * line.Length);
        for (var i = 0; i < megabytes; i++)
            await d.WriteAsync(chunk);
    }

    [Fact]
    public async Task AMessageOverTheMxSizeLimitGets552AndNothingIsStored()
    {
        var (d, greeting) = await OpenAsync(_mxPort);
        await using var _ = d;
        Assert.Equal(220, greeting.Code);
        var ehlo = await d.SendAsync("EHLO mx.example.net");
        Assert.Contains($"SIZE {MxSize}", ehlo.Text);
        var before = await ReportsAsync();

        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<>")).Code);
        Assert.Equal(250, (await d.SendAsync($"RCPT TO:<{Rcpt}>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        await WriteContentAsync(d, 40);
        var big = await d.SendAsync(".");
        Assert.Equal(552, big.Code);
        Assert.StartsWith("5.3.4 ", big.Text);
        Assert.Equal(before, await ReportsAsync());

        // The dropped content was read to its end: the session is in step and the next report is accepted.
        Assert.Equal(250, (await SmallReportAsync(d)).Code);
        Assert.Equal(before + 1, await ReportsAsync());
    }

    [Fact]
    public async Task MailFromWithASizeOverTheMxLimitGets552AtOnce()
    {
        var (d, _) = await OpenAsync(_mxPort);
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("EHLO mx.example.net")).Code);
        var declared = await d.SendAsync($"MAIL FROM:<> SIZE={MxSize + 1}");
        Assert.Equal(552, declared.Code);
        Assert.StartsWith("5.3.4 ", declared.Text);
        // At the limit is fine.
        Assert.Equal(250, (await d.SendAsync($"MAIL FROM:<> SIZE={MxSize}")).Code);
    }

    [Fact]
    public async Task AFiveMegabyteCommandLineIsRefusedAndTheConnectionClosed()
    {
        var (d, _) = await OpenAsync(_mxPort);
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("EHLO mx.example.net")).Code);
        var piece = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
        try
        {
            await d.WriteAsync(Encoding.ASCII.GetBytes("NOOP "));
            for (var i = 0; i < 80; i++) // 5 MB, no line end
                await d.WriteAsync(piece);
            await d.WriteAsync("\r\n");
        }
        catch (IOException)
        {
            // The server closed the connection while we were still sending: it stopped reading.
        }
        var reply = await d.ReadAsync();
        Assert.True(reply.Code == 0 || (reply.Code == 500 && reply.Text.StartsWith("5.5.2 ")), $"unexpected reply {reply}");
        if (reply.Code != 0)
            Assert.Equal(0, (await d.ReadAsync()).Code);

        // Nothing else is affected.
        var (next, greeting) = await OpenAsync(_mxPort);
        await using var _n = next;
        Assert.Equal(220, greeting.Code);
        Assert.Equal(250, (await next.SendAsync("EHLO mx.example.net")).Code);
        Assert.Equal(250, (await SmallReportAsync(next)).Code);
    }

    [Fact]
    public async Task ConnectionsOverThePerAddressCapGet421AndEverythingElseKeepsWorking()
    {
        var open = new List<SmtpDialog>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                var (d, g) = await OpenAsync(_mxPort);
                open.Add(d);
                Assert.Equal(220, g.Code);
            }
            var (refused, greeting) = await OpenAsync(_mxPort);
            await refused.DisposeAsync();
            Assert.Equal(421, greeting.Code);
            Assert.StartsWith("4.7.0 Too many connections", greeting.Text);

            // The process is healthy: /health, the API.
            Assert.Equal(HttpStatusCode.OK, (await _host.Client().GetAsync("/health")).StatusCode);
            var t = await _host.CreateTenantAsync();
            await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "Hi", TextBody = "Hi" }).OkJson();
        }
        finally
        {
            foreach (var d in open)
                await d.DisposeAsync();
        }

        // Once the connections are closed, a normal report is accepted again.
        SmtpDialog? next = null;
        await Eventually.True(async () =>
        {
            var (d, g) = await OpenAsync(_mxPort);
            if (g.Code == 220)
            {
                next = d;
                return true;
            }
            await d.DisposeAsync();
            return false;
        });
        await using var _ = next!;
        Assert.Equal(250, (await next!.SendAsync("EHLO mx.example.net")).Code);
        Assert.Equal(250, (await SmallReportAsync(next)).Code);
    }
}

/// <summary>Memory under an oversize message, measured on a real <c>mailroom serve</c> process (its peak RSS).</summary>
public sealed class MxListenerMemoryTests
{
    private static long StatusKb(int pid, string field)
    {
        var line = File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
    }

    [Fact]
    public async Task AnOversizeMessageIsNotHeldInMemory()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "reads /proc");
        var mx = SmtpSink.FreeTcpPort();
        await using var server = await MailroomProcess.StartAsync(["--roles", "api,mx", "--mx", $"127.0.0.1:{mx}", "--platform-domain", "mailroom.test"]);
        var (d, _) = await MxListenerLimitsTests.OpenAsync(mx);
        await using var _d = d;
        Assert.Equal(250, (await d.SendAsync("EHLO mx.example.net")).Code);
        Assert.Equal(250, (await MxListenerLimitsTests.SmallReportAsync(d)).Code); // warm up the whole path once

        // Linux (proc(5), clear_refs "5"): the peak resident set size restarts from the current one.
        await File.WriteAllTextAsync($"/proc/{server.ProcessId}/clear_refs", "5");
        var before = StatusKb(server.ProcessId, "VmRSS");
        Assert.Equal(250, (await d.SendAsync("MAIL FROM:<>")).Code);
        Assert.Equal(250, (await d.SendAsync("RCPT TO:<pm_bounces+probe@pm-bounces.mailroom.test>")).Code);
        Assert.Equal(354, (await d.SendAsync("DATA")).Code);
        await MxListenerLimitsTests.WriteContentAsync(d, 100);
        var reply = await d.SendAsync(".");
        var peak = StatusKb(server.ProcessId, "VmHWM");
        Assert.Equal(552, reply.Code);
        // Content up to the 35 MB limit is held (it could still be a report), then dropped; a listener that kept
        // the whole 100 MB (and its copy for the store) would grow by 200 MB or more.
        var growthMb = (peak - before) / 1024;
        TestContext.Current.TestOutputHelper?.WriteLine($"RSS before {before / 1024} MB, peak {peak / 1024} MB: +{growthMb} MB for a 100 MB message");
        Assert.True(growthMb < 64, $"peak RSS grew by {growthMb} MB for a 100 MB message");
    }
}

/// <summary>The MX listener's timeouts, total cap and content budget, each with a host whose limit is shrunk.</summary>
public sealed class MxListenerShrunkLimitsTests
{
    private static async Task<(MailroomHost Host, int Port)> StartAsync(Func<SmtpListenerLimits, SmtpListenerLimits> shrink)
    {
        var port = SmtpSink.FreeTcpPort();
        var host = await MailroomHost.StartAsync(
            b => b.Services.AddKeyedSingleton(SmtpListenerLimits.MxKey, shrink(SmtpListenerLimits.Mx)),
            s => s with { Roles = "api,mx", Mx = $"127.0.0.1:{port}" });
        return (host, port);
    }

    /// <summary>A host with shrunk MX limits and a client that has said EHLO to it; disposing ends the dialog, then the host.</summary>
    private sealed class Session(MailroomHost host, SmtpDialog dialog) : IAsyncDisposable
    {
        public MailroomHost Host => host;
        public SmtpDialog Dialog => dialog;

        public async ValueTask DisposeAsync()
        {
            await dialog.DisposeAsync();
            await host.DisposeAsync();
        }
    }

    private static async Task<Session> GreetedAsync(Func<SmtpListenerLimits, SmtpListenerLimits> shrink)
    {
        var (host, port) = await StartAsync(shrink);
        Session session;
        try
        {
            session = new Session(host, (await MxListenerLimitsTests.OpenAsync(port)).Dialog);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        try
        {
            Assert.Equal(250, (await session.Dialog.SendAsync("EHLO mx.example.net")).Code);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    private static Task<int> ReportsAsync(MailroomHost host) =>
        host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().InboundReports.CountAsync());

    [Fact]
    public async Task AnIdleClientIsDisconnectedAfterTheCommandTimeout()
    {
        await using var session = await GreetedAsync(l => l with { CommandTimeout = TimeSpan.FromSeconds(1) });
        var d = session.Dialog;
        var bye = await d.ReadAsync(); // sends nothing more
        Assert.Equal(221, bye.Code);
        Assert.Contains("Timeout", bye.Text);
        Assert.Equal(0, (await d.ReadAsync()).Code);
    }

    [Fact]
    public async Task AClientThatStopsSendingDuringDataIsDisconnectedAndNothingIsStored()
    {
        await using var session = await GreetedAsync(l => l with { DataTimeout = TimeSpan.FromSeconds(1) });
        var d = session.Dialog;
        await MxListenerLimitsTests.BeginDataAsync(d);
        await d.WriteAsync("Subject: half a message\r\n\r\nand then nothing");
        var bye = await d.ReadAsync();
        Assert.Equal(421, bye.Code);
        Assert.StartsWith("4.4.2 ", bye.Text);
        Assert.Equal(0, await ReportsAsync(session.Host));
    }

    [Fact]
    public async Task AConnectionEndsAfterTheSessionTimeoutHoweverBusy()
    {
        await using var session = await GreetedAsync(l => l with { SessionTimeout = TimeSpan.FromSeconds(2) });
        var d = session.Dialog;
        Reply reply;
        var until = DateTime.UtcNow.AddSeconds(30); // a bound for a broken build, not a timing assertion
        do
        {
            await Task.Delay(100); // the library's session timer runs on real time
            reply = await d.SendAsync("NOOP");
        } while (reply.Code == 250 && DateTime.UtcNow < until);
        Assert.True(reply.Code is 221 or 0, $"unexpected reply {reply}");
    }

    [Fact]
    public async Task ConnectionsOverTheTotalCapGet421()
    {
        var (host, port) = await StartAsync(l => l with { MaxConnections = 3 });
        await using var _h = host;
        var open = new List<SmtpDialog>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var (d, g) = await MxListenerLimitsTests.OpenAsync(port);
                open.Add(d);
                Assert.Equal(220, g.Code);
            }
            var (refused, greeting) = await MxListenerLimitsTests.OpenAsync(port);
            await refused.DisposeAsync();
            Assert.Equal(421, greeting.Code);
            Assert.Equal("4.7.0 Too many connections; try again later", greeting.Text);
        }
        finally
        {
            foreach (var d in open)
                await d.DisposeAsync();
        }
    }

    [Fact]
    public async Task ContentBeyondTheListenersBudgetGets452AndTheBudgetIsGivenBack()
    {
        await using var session = await GreetedAsync(l => l with { MaxDataBytesInFlight = 1024 * 1024 });
        var d = session.Dialog;
        await MxListenerLimitsTests.BeginDataAsync(d);
        await MxListenerLimitsTests.WriteContentAsync(d, 2); // under SIZE, over what the listener may hold
        var full = await d.SendAsync(".");
        Assert.Equal(452, full.Code);
        Assert.StartsWith("4.3.1 ", full.Text);
        Assert.Equal(0, await ReportsAsync(session.Host));

        // What it held went back: reports fit again, one after the other.
        for (var i = 0; i < 3; i++)
            Assert.Equal(250, (await MxListenerLimitsTests.SmallReportAsync(d)).Code);
        Assert.Equal(3, await ReportsAsync(session.Host));
    }
}
