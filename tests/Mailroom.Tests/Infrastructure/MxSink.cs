using Mailroom.Cli;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// A loopback SMTP sink reached the way a remote domain is: through MX and A records that a loopback DNS server
/// answers (RFC 5321 §5.1), with the host's delivery port pointed at the sink. For tests of direct (MX) delivery.
/// </summary>
public sealed class MxSink : IAsyncDisposable
{
    public SmtpSink Sink { get; } = new();
    public TestDnsServer Dns { get; } = TestDnsServer.Start();

    /// <summary>Settings for a host that resolves through <see cref="Dns"/> and delivers to the sink's port. The short
    /// timeout only bounds the names a test silences.</summary>
    public MailroomSettings Direct(MailroomSettings settings) =>
        settings with { Dns = Dns.Address, DeliveryPort = Sink.Port, DnsTimeout = TimeSpan.FromSeconds(1) };

    /// <summary><paramref name="domain"/>'s MX is <paramref name="mxHost"/>, whose A record is the sink's address.</summary>
    public void RouteToSink(string domain, string mxHost, ushort preference = 10)
    {
        Dns.AddMx(domain, mxHost, preference);
        Dns.AddA(mxHost, IPAddress.Loopback);
    }

    public async ValueTask DisposeAsync()
    {
        Dns.Dispose();
        await Sink.DisposeAsync();
    }
}
