using Mailroom.Cli;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Test classes whose host (platform domain mailroom.test) resolves through a loopback <see cref="TestDnsServer"/> the
/// test fills with the records it needs. Names it holds nothing for answer NXDOMAIN at once; the short timeout only
/// bounds the names a test silences.
/// </summary>
public abstract class DnsHostTests : HostTests
{
    protected TestDnsServer DnsServer { get; private set; } = null!;

    private protected override MailroomSettings Fixture(MailroomSettings settings) =>
        settings with { Dns = DnsServer.Address, PlatformDomain = "mailroom.test", DnsTimeout = TimeSpan.FromMilliseconds(500) };

    public override async ValueTask InitializeAsync()
    {
        DnsServer = TestDnsServer.Start();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        DnsServer.Dispose();
    }
}
