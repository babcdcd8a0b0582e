using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes on one Mailroom in process (a fresh store per test) that relays every delivery to a loopback
/// <see cref="SmtpSink"/> (the smart-host path, no DNS). The stages are driven by hand, so nothing runs behind the test's
/// back and time moves only when the test advances the fake clock. With <paramref name="mx"/> the MX listener also runs,
/// on a free loopback port, for the reports and replies a remote MTA sends back.
/// </summary>
public abstract class RelayedHostTests(bool mx = false, bool sinkTls = true) : IAsyncLifetime
{
    protected MailroomHost Host { get; private set; } = null!;
    protected SmtpSink Sink { get; private set; } = null!;

    /// <summary>The MX listener's port (with <c>mx</c> only).</summary>
    protected int MxPort { get; private set; }

    /// <summary>Settings a test class needs beyond the relay and the MX listener.</summary>
    protected virtual MailroomSettings Configure(MailroomSettings settings) => settings;

    public virtual async ValueTask InitializeAsync()
    {
        Sink = new SmtpSink(tls: sinkTls);
        var relay = $"127.0.0.1:{Sink.Port}";
        MxPort = mx ? SmtpSink.FreeTcpPort() : 0;
        Host = await MailroomHost.StartAsync(tweak: s => Configure(mx
            ? s with { Relay = relay, Roles = "api,mx", Mx = $"127.0.0.1:{MxPort}" }
            : s with { Relay = relay }));
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Sink.DisposeAsync();
    }

    /// <summary>One Preparation round: how many messages it prepared.</summary>
    protected Task<int> PrepareAsync() => Host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);

    /// <summary>One Delivery round: how many deliveries it attempted.</summary>
    protected Task<int> DeliverAsync() => Host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);

    /// <summary>Prepares, then delivers, until neither stage finds work due now.</summary>
    protected async Task RunPipelineAsync()
    {
        while (await PrepareAsync() > 0) { }
        while (await DeliverAsync() > 0) { }
    }
}
