using Mailroom.Core.Ingress;
using SmtpServer;
using SmtpServer.Protocol;

namespace Mailroom.Smtp;

/// <summary>What one SMTP session has established so far; kept in the library's session properties.</summary>
internal sealed class SubmissionSession(SubmissionPipe pipe)
{
    public const string Key = "Mailroom.Smtp.Session";

    public SubmissionPipe Pipe { get; } = pipe;
    public string ClientAddress { get; } = pipe.Remote.Address.ToString();
    /// <summary>The EHLO/HELO argument, for the trace field.</summary>
    public string ClientName { get; set; } = "";
    /// <summary>Set by a successful AUTH; MAIL is refused until then.</summary>
    public SmtpSubmitter? Submitter { get; set; }
    /// <summary>Benchmarks only (SmtpLoopbackToken): the token a loopback client that skips AUTH sends as.</summary>
    public string? LoopbackToken { get; set; }
    /// <summary>RCPT commands accepted in the current transaction.</summary>
    public int Recipients { get; set; }

    public static SubmissionSession Of(ISessionContext context) => (SubmissionSession)context.Properties[Key];
}

/// <summary>
/// Checks each command before the SmtpServer library runs it (its <c>CommandExecuting</c> event), for the rules
/// the library either lacks or answers without an enhanced status code (RFC 3463). Throwing
/// <see cref="SmtpResponseException"/> here makes the library send that reply instead of running the command.
/// <list type="table">
/// <item><term>PROXY</term><description>500 5.5.1: a client must not choose the address we throttle by.</description></item>
/// <item><term>AUTH before STARTTLS</term><description>538 5.7.11 (RFC 4954 §6), unless plain-text AUTH is allowed.</description></item>
/// <item><term>AUTH from a throttled address</term><description>454 4.7.0 (RFC 4954 §6).</description></item>
/// <item><term>AUTH with an initial response that is not base64</term><description>501 5.5.2 (RFC 4954 §4).</description></item>
/// <item><term>MAIL before AUTH</term><description>530 5.7.0 (RFC 4954 §6): no relaying for anyone unauthenticated.</description></item>
/// <item><term>MAIL with SIZE over the limit</term><description>552 5.3.4 (RFC 1870 §6.1).</description></item>
/// </list>
/// RCPT rules are the mailbox filter's (<see cref="SubmissionMailboxFilter"/>).
/// </summary>
internal sealed class CommandGate(SmtpSubmissionLimits limits, SmtpAuthThrottle throttle, bool allowPlainAuth, string? loopbackToken)
{
    public void Attach(ISessionContext context, SubmissionPipe pipe)
    {
        context.Properties[SubmissionSession.Key] = new SubmissionSession(pipe)
        {
            LoopbackToken = loopbackToken is not null && System.Net.IPAddress.IsLoopback(pipe.Remote.Address) ? loopbackToken : null,
        };
        context.CommandExecuting += OnExecuting;
    }

    private void OnExecuting(object? sender, SmtpCommandEventArgs e)
    {
        var session = SubmissionSession.Of(e.Context);
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
            case AuthCommand auth:
                if (!session.Pipe.IsSecure && !allowPlainAuth)
                    throw Refuse(538, "5.7.11", "Encryption required for requested authentication mechanism: send STARTTLS first");
                if (throttle.IsBlocked(session.ClientAddress))
                    throw Refuse(454, "4.7.0", $"Too many failed authentication attempts from {session.ClientAddress}; try again later");
                if (!string.IsNullOrWhiteSpace(auth.Parameter) && !IsBase64(auth.Parameter))
                    throw Refuse(501, "5.5.2", "Cannot decode the AUTH initial response: it must be base64");
                break;
            case MailCommand mail:
                if (session.Submitter is null && session.LoopbackToken is null)
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
}

/// <summary>The library's command factory, with our EHLO.</summary>
internal sealed class SubmissionCommands(bool allowPlainAuth) : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new SubmissionEhlo(domainOrAddress, allowPlainAuth);
}

/// <summary>
/// EHLO (RFC 5321 §4.1.1.1) with the extensions the library supports: PIPELINING (RFC 2920), 8BITMIME (RFC 6152),
/// SMTPUTF8 (RFC 6531), STARTTLS (RFC 3207) before TLS, SIZE (RFC 1870); and AUTH PLAIN LOGIN (RFC 4954) only
/// once the connection is encrypted, unless plain-text AUTH is allowed, so a client never offers its token in
/// the clear because we asked.
/// </summary>
internal sealed class SubmissionEhlo(string domainOrAddress, bool allowPlainAuth) : EhloCommand(domainOrAddress)
{
    protected override string GetGreeting(ISessionContext context) => $"{context.ServerOptions.ServerName} Hello {DomainOrAddress}";

    protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
        base.GetExtensions(context).Where(e => !e.StartsWith("AUTH", StringComparison.Ordinal) || context.Pipe.IsSecure || allowPlainAuth);
}
