using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Mailroom.Testing;

/// <summary>
/// An authoritative-looking DNS server on 127.0.0.1 (UDP and TCP on one free port) whose records a test changes
/// while it runs. Names it holds no record for answer NXDOMAIN; a name with records of other types answers
/// NOERROR with no answer (as real DNS does). Give Mailroom its address through the <c>Dns</c> setting:
/// <c>MailroomHost.StartAsync(tweak: s => s with { Dns = dns.Address })</c>.
/// </summary>
public sealed class TestDnsServer : IDisposable
{
    private readonly DnsServer _server;
    private readonly ConcurrentDictionary<string, List<DnsRecordBase>> _records = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _silent = new(StringComparer.OrdinalIgnoreCase);
    private int _queries;

    private TestDnsServer(DnsServer server, IPEndPoint endpoint)
    {
        _server = server;
        EndPoint = endpoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>"127.0.0.1:PORT", the form of the <c>Dns</c> setting and <c>--dns</c>.</summary>
    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>How many queries have been answered (or ignored) so far.</summary>
    public int Queries => Volatile.Read(ref _queries);

    public static TestDnsServer Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var endpoint = new IPEndPoint(IPAddress.Loopback, port);
            var server = new DnsServer(new UdpServerTransport(endpoint, 5000), new TcpServerTransport(endpoint, 5000, 10000));
            var dns = new TestDnsServer(server, endpoint);
            server.QueryReceived += dns.OnQueryAsync;
            try
            {
                server.Start();
                return dns;
            }
            catch (SocketException) when (attempt < 10)
            {
                // The port was taken between probing and binding; try another.
            }
        }
    }

    /// <summary>Adds one TXT record; several <paramref name="strings"/> make one record of several
    /// character-strings. A string over 255 bytes is cut into 255-byte strings, as DNS hosting does (a
    /// character-string holds at most 255 bytes, RFC 1035 §3.3).</summary>
    public void AddTxt(string name, params string[] strings) =>
        Add(new TxtRecord(Name(name), 60, strings.SelectMany(s => s.Length == 0 ? [s] : s.Chunk(255).Select(c => new string(c)))));

    public void AddCname(string name, string target) => Add(new CNameRecord(Name(name), 60, Name(target)));

    public void AddMx(string name, string host, ushort preference = 10) => Add(new MxRecord(Name(name), 60, preference, Name(host)));

    public void AddA(string name, IPAddress address) => Add(new ARecord(Name(name), 60, address));

    /// <summary>A PTR record for <paramref name="address"/> (its in-addr.arpa or ip6.arpa name) naming <paramref name="host"/>.</summary>
    public void AddPtr(IPAddress address, string host) => Add(new PtrRecord(address.GetReverseLookupDomain(), 60, Name(host)));

    /// <summary>Removes the records at <paramref name="name"/>: all of them, or those of one type.</summary>
    public void Remove(string name, RecordType? type = null)
    {
        if (!_records.TryGetValue(Key(name), out var list))
            return;
        lock (list)
            list.RemoveAll(r => type is null || r.RecordType == type);
    }

    /// <summary>Queries for <paramref name="name"/> get no answer at all, so the client times out.</summary>
    public void Silence(string name) => _silent[Key(name)] = true;

    private void Add(DnsRecordBase record)
    {
        var list = _records.GetOrAdd(Key(record.Name.ToString()), _ => []);
        lock (list)
            list.Add(record);
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        Interlocked.Increment(ref _queries);
        if (e.Query is not DnsMessage query || query.Questions.Count != 1)
            return;
        var question = query.Questions[0];
        var key = Key(question.Name.ToString());
        if (_silent.ContainsKey(key))
        {
            await Task.Delay(TimeSpan.FromSeconds(10)); // longer than any client timeout in the tests
            return;
        }
        var response = query.CreateResponseInstance();
        response.IsAuthoritiveAnswer = true;
        if (_records.TryGetValue(key, out var list))
        {
            List<DnsRecordBase> matches;
            lock (list)
                matches = list.Where(r => r.RecordType == question.RecordType || (r.RecordType == RecordType.CName && question.RecordType != RecordType.CName)).ToList();
            response.AnswerRecords.AddRange(matches);
            // A name whose records were all removed no longer exists.
            response.ReturnCode = matches.Count > 0 || list.Count > 0 ? ReturnCode.NoError : ReturnCode.NxDomain;
        }
        else
        {
            response.ReturnCode = ReturnCode.NxDomain;
        }
        e.Response = response;
    }

    private static DomainName Name(string name) => DomainName.Parse(name.TrimEnd('.'));

    private static string Key(string name) => name.TrimEnd('.').ToLowerInvariant();

    private static int FreePort()
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)udp.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        try { _server.Stop(); } catch (Exception) { /* already stopping */ }
    }
}
