using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes on one Mailroom in process (<see cref="MailroomHost"/>): xunit makes a new instance per test, so each
/// test gets its own host, store and fake clock, and no state is shared between tests. The stages run only when a test
/// drives a round, so nothing runs behind its back and time moves only when it advances the fake clock.
/// </summary>
public abstract class HostTests : IAsyncLifetime
{
    protected MailroomHost Host { get; private set; } = null!;

    /// <summary>Settings the test class needs (applied last).</summary>
    protected virtual MailroomSettings Configure(MailroomSettings settings) => settings;

    /// <summary>What a kind of fixture adds to the settings (its DNS server, its relay), before the class's own.</summary>
    private protected virtual MailroomSettings Fixture(MailroomSettings settings) => settings;

    public virtual async ValueTask InitializeAsync() => Host = await MailroomHost.StartAsync(tweak: s => Configure(Fixture(s)));

    public virtual async ValueTask DisposeAsync() => await Host.DisposeAsync();

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
