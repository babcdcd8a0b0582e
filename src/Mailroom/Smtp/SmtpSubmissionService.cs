using System.Net;
using System.Security.Authentication;
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
    /// <summary>TCP_NODELAY on accepted sockets (see <see cref="SubmissionListener"/>); off only for measurements.</summary>
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
public sealed class SmtpSubmissionService(SmtpSubmissionOptions options, SmtpSubmissionLimits limits, SmtpAuthThrottle throttle,
    IServiceScopeFactory scopes, ILogger<SmtpSubmissionService> log) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    private Task? _running;

    /// <summary>The bound address (the port is known here when <c>--smtp</c> asked for port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var certificate = SubmissionCertificate.Load(options.CertificatePath, options.CertificatePassword, options.DataDirectory, options.ServerName, log);
        var endpoint = new EndpointDefinitionBuilder()
            .Endpoint(options.Endpoint)
            .IsSecure(false)
            // AUTH passes the library's state table before STARTTLS so the gate can answer 538 5.7.11 (RFC 4954 §6)
            // rather than the table's bare 503; EHLO offers AUTH only over TLS unless plain-text AUTH is allowed.
            .AllowUnsecureAuthentication(true)
            .AuthenticationRequired(false) // the gate answers MAIL before AUTH with 530 5.7.0 itself
            .SessionTimeout(limits.SessionTimeout)
            .Certificate(certificate)
            // Only TLS 1.2 and 1.3: the library's default is 1.2 alone.
            .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
            .Build();
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(options.ServerName)
            .Endpoint(endpoint)
            // Advertised in EHLO (RFC 1870) and enforced by InputGuard: the library's Strict handling stops reading
            // mid-message and then takes the rest of the content for commands.
            .MaxMessageSize(limits.MaxMessageBytes, MaxMessageSizeHandling.Ignore)
            // Errors in a row before the library ends the session (as Postfix's smtpd_hard_error_limit).
            .MaxRetryCount(20)
            .CommandWaitTimeout(limits.CommandTimeout)
            .CustomSmtpGreeting(_ => $"220 {options.ServerName} ESMTP Mailroom")
            .Build();

        if (options.LoopbackToken is not null)
            log.LogWarning("SMTP clients on 127.0.0.0/8 may send without AUTH (SmtpLoopbackToken): for benchmarks only");
        var gate = new CommandGate(limits, throttle, options.AllowPlainAuth, options.LoopbackToken);
        var listeners = new SubmissionListenerFactory(limits, gate, options.TcpNoDelay, log);
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(listeners);
        services.Add(new SubmissionCommands(options.AllowPlainAuth));
        services.Add(new SubmissionAuthenticator(scopes, throttle, log));
        services.Add(new SubmissionMailboxFilter(limits, scopes));
        services.Add(new SubmissionStore(scopes, limits, options.ServerName));
        _server = new SmtpServer.SmtpServer(serverOptions, services);
        _server.SessionFaulted += (_, e) => log.LogDebug(e.Exception, "SMTP session {Session} ended on an error", e.Context.SessionId);
        _running = _server.StartAsync(_stop.Token);
        LocalEndPoint = await listeners.Bound.Task.WaitAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null || _running is null)
            return;
        _server.Shutdown();
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
