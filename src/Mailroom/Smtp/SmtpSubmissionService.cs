using System.Net;
using Mailroom.Cli;
using Mailroom.Core.Ingress;
using SmtpServer;

namespace Mailroom.Smtp;

/// <summary>How the submission port is set up, from the settings (<c>--smtp</c>, <c>--smtp-certificate</c>, ...).</summary>
public sealed record SmtpSubmissionOptions
{
    public required IPEndPoint Endpoint { get; init; }
    /// <summary>Our name in the greeting, EHLO reply and trace fields.</summary>
    public required string ServerName { get; init; }
    public string? CertificatePath { get; init; }
    public string? CertificatePassword { get; init; }
    public bool AllowPlainAuth { get; init; }
    /// <summary>TCP_NODELAY on accepted sockets (see <see cref="SmtpListener"/>); off only for measurements.</summary>
    public bool TcpNoDelay { get; init; } = true;
    /// <summary>Benchmarks only: loopback clients that skip AUTH send as this server token.</summary>
    public string? LoopbackToken { get; init; }
    public required string DataDirectory { get; init; }

    public static SmtpSubmissionOptions From(MailroomSettings settings, string serverName)
    {
        var (host, port) = HostPort.Parse(settings.Smtp, 2525);
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var ip) ? ip
                : throw new ArgumentException($"--smtp wants ADDRESS:PORT with an IP address (or localhost, *), not '{settings.Smtp}'."),
        };
        return new SmtpSubmissionOptions
        {
            Endpoint = new IPEndPoint(address, port),
            ServerName = serverName,
            CertificatePath = settings.SmtpCertificate,
            CertificatePassword = settings.SmtpCertificatePassword,
            AllowPlainAuth = settings.SmtpAllowPlainAuth,
            TcpNoDelay = settings.SmtpTcpNoDelay,
            LoopbackToken = settings.SmtpLoopbackToken,
            DataDirectory = Path.GetFullPath(settings.DataDirectory),
        };
    }
}

/// <summary>
/// The SMTP submission listener (role <c>smtp</c>, spec §12.2) on the SmtpServer library. Glue only: the
/// library speaks the protocol; <see cref="CommandGate"/>, the handlers and <see cref="InputGuard"/> add the
/// rules it lacks; <see cref="SmtpIngress"/> (Core) decides who may send and what becomes of a message.
/// </summary>
public sealed class SmtpSubmissionService(SmtpSubmissionOptions options, [FromKeyedServices(SmtpListenerLimits.SubmissionKey)] SmtpListenerLimits limits,
    SmtpAuthThrottle throttle, IServiceScopeFactory scopes, ILogger<SmtpSubmissionService> log) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    /// <summary>How long sessions under way may go on after a stop was asked for.</summary>
    public static readonly TimeSpan SessionGrace = TimeSpan.FromSeconds(5);
    private Task? _running;

    /// <summary>The bound address (the port is known here when <c>--smtp</c> asked for port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var certificate = SubmissionCertificate.Load(options.CertificatePath, options.CertificatePassword, options.DataDirectory, options.ServerName, log);
        if (options.LoopbackToken is not null)
            log.LogWarning("SMTP clients on 127.0.0.0/8 may send without AUTH (SmtpLoopbackToken): for benchmarks only");
        var (server, listeners) = SmtpListenerSetup.Create("SMTP submission", options.Endpoint, options.ServerName, limits,
            new GateAuth(throttle, options.AllowPlainAuth, options.LoopbackToken), options.TcpNoDelay, certificate, log, services =>
            {
                services.Add(new SubmissionAuthenticator(scopes, throttle, log));
                services.Add(new SubmissionMailboxFilter(limits, scopes));
                services.Add(new SubmissionStore(scopes, options.ServerName));
            });
        _server = server;
        _running = _server.StartAsync(_stop.Token);
        LocalEndPoint = await listeners.Bound.Task.WaitAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null || _running is null)
            return;
        // Graceful stop: no new connections; sessions under way get a few seconds to finish their transaction (the
        // server's task ends when its last session does), then whatever is left is cancelled. Bounded by the host's
        // ShutdownTimeout through cancellationToken.
        _server.Shutdown();
        try
        {
            await _running.WaitAsync(SessionGrace, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // Sessions still open: cancelled below.
        }
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException)
        {
            // Stopping.
        }
    }
}
