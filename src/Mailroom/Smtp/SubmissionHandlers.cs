using System.Buffers;
using Mailroom.Core.Ingress;
using Mailroom.Mail.Addresses;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Mailroom.Smtp;

/// <summary>AUTH PLAIN / LOGIN (RFC 4954, RFC 4616): asks <see cref="SmtpIngress"/>, counts failures per address.</summary>
internal sealed class SubmissionAuthenticator(IServiceScopeFactory scopes, SmtpAuthThrottle throttle, ILogger log) : IUserAuthenticator
{
    public async Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var session = ClientSession.Of(context);
        SmtpLogin login;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            login = await scope.ServiceProvider.GetRequiredService<SmtpIngress>().AuthenticateAsync(user, password, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "SMTP AUTH from {Address} failed", session.ClientAddress);
            throw CommandGate.Refuse(454, "4.7.0", "Temporary authentication failure; try again");
        }
        if (login.Submitter is null)
        {
            if (login.BadCredentials && throttle.Failed(session.ClientAddress))
                log.LogWarning("SMTP AUTH from {Address} blocked after repeated failures", session.ClientAddress);
            throw CommandGate.Refuse(login.Reply);
        }
        throttle.Succeeded(session.ClientAddress);
        session.Submitter = login.Submitter;
        return true;
    }
}

/// <summary>MAIL and RCPT: authenticated senders only; at most the recipient limit; recipient syntax.</summary>
internal sealed class SubmissionMailboxFilter(SmtpListenerLimits limits, IServiceScopeFactory scopes) : IMailboxFilter
{
    public async Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        var session = ClientSession.Of(context);
        if (session.Submitter is null && session.LoopbackToken is { } token)
        {
            // Benchmarks only (SmtpLoopbackToken): the loopback client is taken to have sent AUTH with the token.
            await using var scope = scopes.CreateAsyncScope();
            var login = await scope.ServiceProvider.GetRequiredService<SmtpIngress>().AuthenticateAsync(token, token, cancellationToken);
            session.Submitter = login.Submitter ?? throw CommandGate.Refuse(login.Reply);
        }
        // The gate answers first; this keeps the rule where the library's design puts it too.
        if (session.Submitter is null)
            throw CommandGate.Refuse(530, "5.7.0", "Authentication required");
        return true;
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var session = ClientSession.Of(context);
        session.CheckRoomForRecipient(limits);
        var address = to.AsAddress();
        if (!EmailAddress.IsValid(address))
            throw CommandGate.Refuse(553, "5.1.3", $"Bad recipient address syntax: <{address}>");
        session.Recipients++;
        return Task.FromResult(true);
    }
}

/// <summary>
/// End of DATA on both listeners: the transaction's recipient count starts again, content the input guard dropped
/// (over the size limit, or no room in the listener's budget) is refused (552 5.3.4 / 452 4.3.1) without touching the
/// store, and the guard's budget is given back only once <see cref="StoreAsync"/> is done with the content (storing and
/// processing make copies of it).
/// </summary>
internal abstract class GuardedMessageStore : MessageStore
{
    public sealed override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var session = ClientSession.Of(context);
        session.Recipients = 0;
        try
        {
            if (session.Pipe.Guard.ContentRefusal(buffer.Length) is { } refusal)
                return CommandGate.Response(refusal);
            return await StoreAsync(session, transaction, buffer, cancellationToken);
        }
        finally
        {
            session.Pipe.Guard.EndData();
        }
    }

    /// <summary>Stores content the guard let through; the answer is the reply to DATA (250 only once durable).</summary>
    protected abstract Task<SmtpResponse> StoreAsync(ClientSession session, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct);
}

/// <summary>End of DATA: hands the message to <see cref="SmtpIngress"/>; its reply is the reply (250 only once durable).</summary>
internal sealed class SubmissionStore(IServiceScopeFactory scopes, string serverName) : GuardedMessageStore
{
    protected override async Task<SmtpResponse> StoreAsync(ClientSession session, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
    {
        if (session.Submitter is not { } submitter)
            return CommandGate.Response(new SmtpReply(530, "5.7.0", "Authentication required"));
        var recipients = transaction.To.Select(t => t.AsAddress()).ToList();
        var trace = new SmtpTrace(session.ClientName, session.ClientAddress, serverName, session.Pipe.IsSecure,
            SmtpUtf8: transaction.Parameters?.ContainsKey("SMTPUTF8") == true); // RFC 6531 §3.4; the library's keys ignore case
        await using var scope = scopes.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<SmtpIngress>()
            .SubmitAsync(submitter, recipients, buffer.ToArray(), trace, ct);
        return CommandGate.Response(result.Reply);
    }
}
