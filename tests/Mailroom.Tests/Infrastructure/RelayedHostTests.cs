using Mailroom.Cli;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes whose host relays every delivery to a loopback <see cref="SmtpSink"/> (the smart-host path, no DNS).
/// The stages are driven by hand (<see cref="HostTests.RunPipelineAsync"/>). With <paramref name="mx"/> the MX listener
/// also runs, on a free loopback port, for the reports and replies a remote MTA sends back.
/// </summary>
public abstract class RelayedHostTests(bool mx = false, bool sinkTls = true) : HostTests
{
    protected SmtpSink Sink { get; private set; } = null!;

    /// <summary>The MX listener's port (with <c>mx</c> only).</summary>
    protected int MxPort { get; private set; }

    private protected override MailroomSettings Fixture(MailroomSettings settings) => mx
        ? settings with { Relay = $"127.0.0.1:{Sink.Port}", Roles = "api,mx", Mx = $"127.0.0.1:{MxPort}" }
        : settings with { Relay = $"127.0.0.1:{Sink.Port}" };

    public override async ValueTask InitializeAsync()
    {
        Sink = new SmtpSink(tls: sinkTls);
        MxPort = mx ? SmtpSink.FreeTcpPort() : 0;
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Sink.DisposeAsync();
    }

    /// <summary>Sends a report to the MX listener (with <c>mx</c> only) as a remote MTA's mailer-daemon would.</summary>
    protected Task SendToMxAsync(MimeKit.MimeMessage report, string rcpt) =>
        RemoteMta.SendAsync(MxPort, report, "mailer-daemon@mx.example.net", rcpt);
}
