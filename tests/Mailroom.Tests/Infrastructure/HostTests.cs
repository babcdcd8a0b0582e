using Mailroom.Cli;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes on one Mailroom in process (<see cref="MailroomHost"/>): xunit makes a new instance per test, so each
/// test gets its own host, store and fake clock, and no state is shared between tests.
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
}
