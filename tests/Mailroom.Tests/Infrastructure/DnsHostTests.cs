using Mailroom.Cli;
using Xunit;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes on one Mailroom in process (a fresh store per test, platform domain mailroom.test) whose resolver is a
/// loopback <see cref="TestDnsServer"/> the test fills with the records it needs. Names it holds nothing for answer
/// NXDOMAIN at once; the short timeout only bounds the names a test silences.
/// </summary>
public abstract class DnsHostTests : IAsyncLifetime
{
    protected TestDnsServer DnsServer { get; private set; } = null!;
    protected MailroomHost Host { get; private set; } = null!;

    /// <summary>Settings a test class needs beyond the DNS server and the platform domain.</summary>
    protected virtual MailroomSettings Configure(MailroomSettings settings) => settings;

    public virtual async ValueTask InitializeAsync()
    {
        DnsServer = TestDnsServer.Start();
        Host = await MailroomHost.StartAsync(tweak: s => Configure(s with
        {
            Dns = DnsServer.Address, PlatformDomain = "mailroom.test", DnsTimeout = TimeSpan.FromMilliseconds(500),
        }));
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        DnsServer.Dispose();
    }
}
