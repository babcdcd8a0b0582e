using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes whose host relays every delivery to a loopback <see cref="SmtpSink"/> (the smart-host path, no DNS).
/// The stages are driven by hand, so nothing runs behind the test's back and time moves only when the test advances the
/// fake clock. With <paramref name="mx"/> the MX listener also runs, on a free loopback port, for the reports and
/// replies a remote MTA sends back.
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

    /// <summary>One Preparation round: how many messages it handled.</summary>
    protected Task<int> PrepareAsync() => Host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);

    /// <summary>One Delivery round: how many deliveries it handled.</summary>
    protected Task<int> DeliverAsync() => Host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);

    /// <summary>Prepares, then delivers, until neither stage finds work due now.</summary>
    protected async Task RunPipelineAsync()
    {
        while (await PrepareAsync() > 0) { }
        while (await DeliverAsync() > 0) { }
    }
}
