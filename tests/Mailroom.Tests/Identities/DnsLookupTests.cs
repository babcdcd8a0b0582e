using Mailroom.Core.Identities;

namespace Mailroom.Tests.Identities;

/// <summary>DnsLookup against the loopback test DNS server: what each kind of answer becomes.</summary>
public sealed class DnsLookupTests : IDisposable
{
    private readonly TestDnsServer _dns = TestDnsServer.Start();
    private readonly DnsLookup _lookup;

    public DnsLookupTests() => _lookup = new DnsLookup(_dns.EndPoint, TimeSpan.FromSeconds(3)); // live answers on a busy machine may be slow

    public void Dispose() => _dns.Dispose();

    [Fact]
    public async Task JoinsTheStringsOfEachTxtRecord()
    {
        var key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA+/x=" + new string('A', 300);
        _dns.AddTxt("s1._domainkey.example.com", "k=rsa; p=" + key[..200], key[200..]);
        _dns.AddTxt("s1._domainkey.example.com", "other");
        var answer = await _lookup.TxtAsync("S1._domainkey.Example.com.", TestContext.Current.CancellationToken);
        Assert.Equal(DnsOutcome.Found, answer.Outcome);
        Assert.Equal(["k=rsa; p=" + key, "other"], answer.Values.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TellsAMissingNameFromAMissingRecord()
    {
        _dns.AddA("host.example.com", IPAddress.Loopback);
        var nx = await _lookup.TxtAsync("nowhere.example.com", TestContext.Current.CancellationToken);
        Assert.Equal(DnsOutcome.NoSuchDomain, nx.Outcome);
        Assert.True(nx.IsDefinite);
        var empty = await _lookup.TxtAsync("host.example.com", TestContext.Current.CancellationToken);
        Assert.Equal(DnsOutcome.NoRecords, empty.Outcome);
        Assert.Contains("no TXT record", empty.Detail);
        var a = await _lookup.AddressesAsync("host.example.com", TestContext.Current.CancellationToken);
        Assert.Equal(["127.0.0.1"], a.Values);
    }

    [Fact]
    public async Task CnameTargetsComeWithoutTheTrailingDotInLowerCase()
    {
        _dns.AddCname("pm-bounces.example.com", "PM-Bounces.Mailroom.Test.");
        var answer = await _lookup.CnameAsync("pm-bounces.example.com", TestContext.Current.CancellationToken);
        Assert.Equal(["pm-bounces.mailroom.test"], answer.Values);
    }

    [Fact]
    public async Task MxHostsComeMostPreferredFirst()
    {
        _dns.AddMx("example.com", "backup.example.com", 20);
        _dns.AddMx("example.com", "mx.example.com", 10);
        var answer = await _lookup.MxAsync("example.com", TestContext.Current.CancellationToken);
        Assert.True(answer.Outcome == DnsOutcome.Found, answer.ToString() + answer.Detail);
        Assert.Equal(["mx.example.com", "backup.example.com"], answer.Values);
    }

    [Fact]
    public async Task ATimeoutIsAFailedAnswerNotAnException()
    {
        _dns.Silence("slow.example.com");
        var answer = await _lookup.TxtAsync("slow.example.com", TestContext.Current.CancellationToken);
        Assert.Equal(DnsOutcome.Failed, answer.Outcome);
        Assert.False(answer.IsDefinite);
        Assert.NotEqual("", answer.Detail);
    }

    [Fact]
    public async Task NoServerListeningIsAFailedAnswer()
    {
        var dead = new DnsLookup(new IPEndPoint(IPAddress.Loopback, 9), TimeSpan.FromMilliseconds(300));
        var answer = await dead.TxtAsync("example.com", TestContext.Current.CancellationToken);
        Assert.Equal(DnsOutcome.Failed, answer.Outcome);
    }

    [Theory]
    [InlineData("127.0.0.1:5353", "127.0.0.1:5353")]
    [InlineData("127.0.0.1", "127.0.0.1:53")]
    [InlineData("[::1]:53", "[::1]:53")]
    public void ParsesTheDnsSetting(string value, string expected) =>
        Assert.Equal(expected, DnsLookup.ParseServer(value).ToString());

    [Fact]
    public void RefusesAHostNameAsDnsSetting() =>
        Assert.Throws<FormatException>(() => DnsLookup.ParseServer("dns.example.com:53"));
}
