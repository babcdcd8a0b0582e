using Mailroom.Core.Ingress;
using SmtpServer;
using SmtpServer.Protocol;

namespace Mailroom.Smtp;

/// <summary>What one SMTP session (of either listener) has established so far; kept in the library's session properties.</summary>
internal sealed class ClientSession(SmtpPipe pipe)
{
    public const string Key = "Mailroom.Smtp.Session";

    public SmtpPipe Pipe { get; } = pipe;
    public string ClientAddress { get; } = pipe.Remote.Address.ToString();
    /// <summary>The EHLO/HELO argument, for the trace field.</summary>
    public string ClientName { get; set; } = "";
    /// <summary>Set by a successful AUTH; submission refuses MAIL until then (the MX listener has no AUTH).</summary>
    public SmtpSubmitter? Submitter { get; set; }
    /// <summary>Benchmarks only (SmtpLoopbackToken): the token a loopback client that skips AUTH sends as.</summary>
    public string? LoopbackToken { get; set; }
    /// <summary>RCPT commands accepted in the current transaction.</summary>
    public int Recipients { get; set; }

    /// <summary>Before a RCPT is looked at: at the limit, 452 4.5.3 (RFC 5321 §4.5.3.1.10). An accepted RCPT then counts itself.</summary>
    public void CheckRoomForRecipient(SmtpListenerLimits limits)
    {
        if (Recipients >= limits.MaxRecipients)
            throw CommandGate.Refuse(452, "4.5.3", $"Too many recipients: at most {limits.MaxRecipients} per message");
    }

    public static ClientSession Of(ISessionContext context) => (ClientSession)context.Properties[Key];
}

/// <summary>AUTH on a listener that has it (submission): the throttle, whether AUTH may precede STARTTLS, the benchmark token.</summary>
internal sealed record GateAuth(SmtpAuthThrottle Throttle, bool AllowPlainAuth, string? LoopbackToken);

/// <summary>
/// Checks each command before the SmtpServer library runs it (its <c>CommandExecuting</c> event), for the rules
/// the library either lacks or answers without an enhanced status code (RFC 3463), on both listeners. Throwing
/// <see cref="SmtpResponseException"/> here makes the library send that reply instead of running the command.
/// With <c>auth</c> null (the MX listener) there is no AUTH at all: AUTH gets 502 5.5.1 and MAIL needs none.
/// <list type="table">
/// <item><term>PROXY</term><description>500 5.5.1: a client must not choose the address we count connections by.</description></item>
/// <item><term>AUTH without AUTH</term><description>502 5.5.1 (the MX listener).</description></item>
/// <item><term>AUTH before STARTTLS</term><description>538 5.7.11 (RFC 4954 §6), unless plain-text AUTH is allowed.</description></item>
/// <item><term>AUTH from a throttled address</term><description>454 4.7.0 (RFC 4954 §6).</description></item>
/// <item><term>AUTH with an initial response that is not base64</term><description>501 5.5.2 (RFC 4954 §4).</description></item>
/// <item><term>MAIL before AUTH</term><description>530 5.7.0 (RFC 4954 §6): no relaying for anyone unauthenticated.</description></item>
/// <item><term>MAIL with SIZE over the limit</term><description>552 5.3.4 (RFC 1870 §6.1), before any content is sent.</description></item>
/// <item><term>DATA</term><description>starts the <see cref="InputGuard"/>'s content limits.</description></item>
/// </list>
/// RCPT rules are the mailbox filters' (<see cref="SubmissionMailboxFilter"/>, <see cref="MxMailboxFilter"/>).
/// </summary>
internal sealed class CommandGate(SmtpListenerLimits limits, GateAuth? auth)
{
    public void Attach(ISessionContext context, SmtpPipe pipe)
    {
        context.Properties[ClientSession.Key] = new ClientSession(pipe)
        {
            LoopbackToken = auth?.LoopbackToken is { } token && System.Net.IPAddress.IsLoopback(pipe.Remote.Address) ? token : null,
        };
        context.CommandExecuting += OnExecuting;
    }

    private void OnExecuting(object? sender, SmtpCommandEventArgs e)
    {
        var session = ClientSession.Of(e.Context);
        switch (e.Command)
        {
            case ProxyCommand:
                throw Refuse(500, "5.5.1", "Command not recognized");
            case EhloCommand ehlo:
                session.ClientName = ehlo.DomainOrAddress ?? "";
                break;
            case HeloCommand helo:
                session.ClientName = helo.DomainOrAddress ?? "";
                break;
            case AuthCommand when auth is null:
                throw Refuse(502, "5.5.1", "AUTH not available here");
            case AuthCommand command:
                if (!session.Pipe.IsSecure && !auth.AllowPlainAuth)
                    throw Refuse(538, "5.7.11", "Encryption required for requested authentication mechanism: send STARTTLS first");
                if (auth.Throttle.IsBlocked(session.ClientAddress))
                    throw Refuse(454, "4.7.0", $"Too many failed authentication attempts from {session.ClientAddress}; try again later");
                if (!string.IsNullOrWhiteSpace(command.Parameter) && !IsBase64(command.Parameter))
                    throw Refuse(501, "5.5.2", "Cannot decode the AUTH initial response: it must be base64");
                break;
            case MailCommand mail:
                if (auth is not null && session.Submitter is null && session.LoopbackToken is null)
                    throw Refuse(530, "5.7.0", "Authentication required: AUTH with the server API token as user name and password");
                if (mail.Parameters.TryGetValue("SIZE", out var size) && long.TryParse(size, out var declared) && declared > limits.MaxMessageBytes)
                    throw Refuse(552, "5.3.4", $"Message size exceeds fixed maximum message size of {limits.MaxMessageBytes} bytes");
                session.Recipients = 0;
                break;
            case RsetCommand:
                session.Recipients = 0;
                break;
            case DataCommand:
                // The library answers 554 itself when no recipient was accepted, and then reads no content.
                if (session.Recipients > 0)
                    session.Pipe.Guard.BeginData();
                break;
        }
    }

    private static bool IsBase64(string value)
    {
        var trimmed = value.Trim();
        return trimmed.Length <= 16384 && Convert.TryFromBase64String(trimmed, new byte[trimmed.Length], out _);
    }

    /// <summary>
    /// A reply with an enhanced status code. (The library appends ", N retry(ies) remaining." to the text of
    /// such replies: after that many errors in a row it closes the session.)
    /// </summary>
    public static SmtpResponseException Refuse(int code, string status, string text) =>
        new(new SmtpResponse((SmtpReplyCode)code, $"{status} {text}"));

    public static SmtpResponseException Refuse(SmtpReply reply) => Refuse(reply.Code, reply.Status, reply.Text);

    /// <summary>A reply to end of DATA (the library appends nothing to these).</summary>
    public static SmtpResponse Response(SmtpReply reply) => new((SmtpReplyCode)reply.Code, $"{reply.Status} {reply.Text}");
}

/// <summary>The library's command factory, with our EHLO.</summary>
internal sealed class GateCommands(bool allowPlainAuth) : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new GateEhlo(domainOrAddress, allowPlainAuth);
}

/// <summary>
/// EHLO (RFC 5321 §4.1.1.1) with the extensions the library supports: PIPELINING (RFC 2920), 8BITMIME (RFC 6152),
/// SMTPUTF8 (RFC 6531), STARTTLS (RFC 3207) before TLS when there is a certificate, SIZE (RFC 1870); and AUTH PLAIN
/// LOGIN (RFC 4954) only where there is AUTH and once the connection is encrypted, unless plain-text AUTH is allowed,
/// so a client never offers its token in the clear because we asked.
/// </summary>
internal sealed class GateEhlo(string domainOrAddress, bool allowPlainAuth) : EhloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => $"{context.ServerOptions.ServerName} Hello {DomainOrAddress}";

    protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
        base.GetExtensions(context).Where(e => !e.StartsWith("AUTH", StringComparison.Ordinal) || context.Pipe.IsSecure || allowPlainAuth);
}
