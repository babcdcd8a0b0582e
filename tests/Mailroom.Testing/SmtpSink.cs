using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Mailroom.Testing;

/// <summary>A message the sink accepted, with its envelope and session facts.</summary>
public sealed record SinkMessage(string MailFrom, IReadOnlyList<string> Recipients, byte[] Data, Guid SessionId, bool Secure);

/// <summary>
/// A real SMTP server on loopback (the SmtpServer library) that stores what it receives. It offers STARTTLS with
/// a self-signed certificate unless <c>tls: false</c>, and answers RCPT by <see cref="RecipientReply"/>: null
/// accepts, a (code, text) refuses with that reply — 4xx or 5xx — so tests script transient and permanent failures.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;
    private readonly ConcurrentDictionary<Guid, byte> _sessions = new();

    public int Port { get; }
    public ConcurrentQueue<SinkMessage> Messages { get; } = new();
    public Func<string, (int Code, string Text)?> RecipientReply { get; set; } = _ => null;
    public int SessionCount => _sessions.Count;

    public SmtpSink(bool tls = true)
    {
        Port = FreeTcpPort();
        var endpoint = new EndpointDefinitionBuilder().Endpoint(new IPEndPoint(IPAddress.Loopback, Port)).IsSecure(false);
        if (tls)
            endpoint = endpoint.Certificate(SelfSignedCertificate()).SupportedSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        var options = new SmtpServerOptionsBuilder().ServerName("sink.test").Endpoint(endpoint.Build()).Build();
        var services = new ServiceProvider();
        services.Add(new Store(this));
        services.Add(new Filter(this));
        _server = new SmtpServer.SmtpServer(options, services);
        _server.SessionCreated += (_, e) => _sessions.TryAdd(e.Context.SessionId, 0);
        _running = _server.StartAsync(_stop.Token);
    }

    public static int FreeTcpPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static X509Certificate2 SelfSignedCertificate()
    {
        using var rsa = RSA.Create(2048);
        var req = new CertificateRequest("CN=sink.test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    private sealed class Store(SmtpSink sink) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
        {
            sink.Messages.Enqueue(new SinkMessage(transaction.From.AsAddress(), transaction.To.Select(t => t.AsAddress()).ToList(),
                buffer.ToArray(), context.SessionId, context.Pipe.IsSecure));
            return Task.FromResult(SmtpResponse.Ok);
        }
    }

    private sealed class Filter(SmtpSink sink) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken ct) => Task.FromResult(true);

        public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken ct)
        {
            if (sink.RecipientReply(to.AsAddress()) is { } reply)
                throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)reply.Code, reply.Text));
            return Task.FromResult(true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _server.Shutdown();
        try { await _running.WaitAsync(TimeSpan.FromSeconds(5)); } catch (Exception) { }
    }
}
