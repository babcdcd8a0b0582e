using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Mailroom.Smtp;

/// <summary>
/// Creates a listener's socket (registered with the library as its <see cref="IEndpointListenerFactory"/>), for the
/// submission port and the MX port alike, each with its own <see cref="SmtpListenerLimits"/>. <see cref="Bound"/>
/// completes once the port is bound, so start-up can fail loudly and tests learn the port.
/// </summary>
internal sealed class SmtpListenerFactory(string name, SmtpListenerLimits limits, CommandGate gate, bool noDelay, ILogger log) : IEndpointListenerFactory
{
    public TaskCompletionSource<IPEndPoint> Bound { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        try
        {
            listener.Start(backlog: 512);
        }
        catch (Exception e)
        {
            Bound.TrySetException(e);
            throw;
        }
        var local = (IPEndPoint)listener.LocalEndpoint;
        Bound.TrySetResult(local);
        log.LogInformation("{Listener} listening on {Endpoint}", name, local);
        return new SmtpListener(name, listener, limits, gate, noDelay, log);
    }
}

/// <summary>
/// Accepts connections for the library, one per call. Each accepted socket gets TCP_NODELAY: the library flushes
/// each reply as its own small write, and with Nagle's algorithm on, a reply written while the previous one is
/// unacknowledged waits for the client's delayed ACK (~40 ms on Linux). A pipelining client (RFC 2920) meets that
/// wait once per message, which held one connection to ~22 messages/s. Connections over the per-address or total
/// limit get <c>421 4.7.0</c> and are closed before any session starts (RFC 5321 §3.8 lets a server refuse at the
/// greeting), so a flood of idle connections costs a socket each for as long as the 421 takes, and no session;
/// the command, data and session timeouts close the connections that were let in.
/// </summary>
internal sealed class SmtpListener(string name, TcpListener listener, SmtpListenerLimits limits, CommandGate gate, bool noDelay, ILogger log) : IEndpointListener
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly DataBudget _budget = new(limits.MaxDataBytesInFlight);
    private int _total;

    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = noDelay;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            if (!TryOpen(remote.Address, out var why))
            {
                NoteRefused(remote.Address, why);
                _ = RefuseAsync(socket, why);
                continue;
            }
            try
            {
                var pipe = new SmtpPipe(socket, limits, _budget, () => Closed(remote.Address));
                context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
                context.Properties[EndpointListener.RemoteEndPointKey] = remote;
                gate.Attach(context, pipe);
                return pipe;
            }
            catch
            {
                Closed(remote.Address);
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// One warning per 10 seconds at most, with the count since the last: a flood of refused connections must not
    /// turn into a flood of log lines (the console logger's queue blocks when full, and would stall this accept loop).
    /// Real time (not the injected clock): it paces log output only.
    /// </summary>
    private void NoteRefused(IPAddress address, string why)
    {
        Interlocked.Increment(ref _refused);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _refusalLoggedAt);
        if (now - last < 10_000 || Interlocked.CompareExchange(ref _refusalLoggedAt, now, last) != last)
            return;
        log.LogWarning("{Listener}: connection from {Address} refused: {Reason} ({Count} refused since the last such warning)",
            name, address, why, Interlocked.Exchange(ref _refused, 0));
    }

    private long _refused;
    private long _refusalLoggedAt = long.MinValue / 2;

    private bool TryOpen(IPAddress address, out string why)
    {
        why = "";
        if (Interlocked.Increment(ref _total) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref _total);
            why = "Too many connections; try again later";
            return false;
        }
        var count = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (count > limits.MaxConnectionsPerAddress)
        {
            Closed(address);
            why = $"Too many connections from {address}; try again later";
            return false;
        }
        return true;
    }

    private void Closed(IPAddress address)
    {
        Interlocked.Decrement(ref _total);
        // Decrement, and drop the entry at zero so the table holds only addresses with open connections.
        while (_perAddress.TryGetValue(address, out var n))
        {
            if (n <= 1 ? _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, n)) : _perAddress.TryUpdate(address, n - 1, n))
                return;
        }
    }

    private static async Task RefuseAsync(Socket socket, string why)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.SendAsync(Encoding.ASCII.GetBytes($"421 4.7.0 {why}\r\n"), SocketFlags.None, timeout.Token);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Nothing to tell a client that is gone.
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose() => listener.Stop();
}

/// <summary>
/// Builds one SmtpServer instance on our listener, pipe and gate, with a listener's limits: the one place both the
/// submission port (<see cref="SmtpSubmissionService"/>) and the MX port (<see cref="MxListener"/>) are set up.
/// <paramref name="handlers"/> adds the listener's own (authenticator, mailbox filter, store).
/// </summary>
internal static class SmtpListenerSetup
{
    private const string SessionStartKey = "Mailroom.SessionStart";

    private static void RecordSession(string listener, SmtpServer.ISessionContext context)
    {
        if (context.Properties.TryGetValue(SessionStartKey, out var start) && start is long started)
            Mailroom.Core.MailroomMetrics.SmtpSession(listener, System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    public static (SmtpServer.SmtpServer Server, SmtpListenerFactory Listeners) Create(string name, IPEndPoint endpoint, string serverName,
        SmtpListenerLimits limits, GateAuth? auth, bool noDelay, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate,
        ILogger log, Action<SmtpServer.ComponentModel.ServiceProvider> handlers)
    {
        var builder = new EndpointDefinitionBuilder()
            .Endpoint(endpoint)
            .IsSecure(false)
            // AUTH passes the library's state table before STARTTLS so the gate can answer it (538 5.7.11 on
            // submission, RFC 4954 §6; 502 5.5.1 on MX) rather than the table's bare 503; EHLO offers AUTH only
            // where there is an authenticator, and over TLS unless plain-text AUTH is allowed.
            .AllowUnsecureAuthentication(true)
            .AuthenticationRequired(false) // the gate answers MAIL before AUTH with 530 5.7.0 itself
            // The whole connection (the library's default is 2 minutes).
            .SessionTimeout(limits.SessionTimeout)
            // Only TLS 1.2 and 1.3: the library's default is 1.2 alone.
            .SupportedSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
        if (certificate is not null)
            builder.Certificate(certificate);
        var options = new SmtpServerOptionsBuilder()
            .ServerName(serverName)
            .Endpoint(builder.Build())
            // Advertised in EHLO (RFC 1870) and enforced by InputGuard: the library's Strict handling stops reading
            // mid-message and then takes the rest of the content for commands.
            .MaxMessageSize(limits.MaxMessageBytes, MaxMessageSizeHandling.Ignore)
            // Errors in a row before the library ends the session (as Postfix's smtpd_hard_error_limit).
            .MaxRetryCount(20)
            .CommandWaitTimeout(limits.CommandTimeout)
            .CustomSmtpGreeting(_ => $"220 {serverName} ESMTP Mailroom")
            .Build();
        var listeners = new SmtpListenerFactory(name, limits, new CommandGate(limits, auth), noDelay, log);
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new GateCommands(auth?.AllowPlainAuth ?? false));
        handlers(services);
        var server = new SmtpServer.SmtpServer(options, services);
        server.SessionFaulted += (_, e) => log.LogDebug(e.Exception, "{Listener}: session {Session} ended on an error", name, e.Context.SessionId);
        // Session durations for the metrics (mailroom.smtp.session.duration, tag listener).
        server.SessionCreated += (_, e) => e.Context.Properties[SessionStartKey] = System.Diagnostics.Stopwatch.GetTimestamp();
        server.SessionCompleted += (_, e) => RecordSession(name, e.Context);
        server.SessionCancelled += (_, e) => RecordSession(name, e.Context);
        server.SessionFaulted += (_, e) => RecordSession(name, e.Context);
        return (server, listeners);
    }
}
