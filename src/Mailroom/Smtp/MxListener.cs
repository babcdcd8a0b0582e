using System.Buffers;
using System.Net;
using Mailroom.Cli;
using Mailroom.Core.Events;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Mailroom.Smtp;

/// <summary>
/// The inbound MX listener (role <c>mx</c>): receives mail for servers' inbound streams (their <c>InboundAddress</c> and
/// <c>InboundDomain</c>, <see cref="Mailroom.Core.Inbound.InboundRecipients"/>) and what comes back to return paths — RFC 3464
/// DSNs, RFC 5965 complaints, RFC 3834 auto-replies — on the SmtpServer library. Protocol only: which recipients it accepts is
/// <see cref="MxMailboxFilter"/>, what it does with a message is <see cref="MxMessageStore"/>, both calling Core.
/// No AUTH: it accepts mail only for inbound addresses and the return-path hosts Mailroom manages, and relays nothing.
/// It faces anyone on the internet, so it runs on the same listener, pipe and gate as submission
/// (<see cref="SmtpListenerSetup"/>) with its own limits, <see cref="SmtpListenerLimits.Mx"/>: SIZE 35 MB enforced while
/// DATA is read, 4 KB command lines, 100 connections per address and 1,000 in all (421 4.7.0 at connect), 128 MB of
/// content held at once, and command, data and session timeouts.
/// </summary>
public sealed class MxListener(MailroomSettings settings, [FromKeyedServices(SmtpListenerLimits.MxKey)] SmtpListenerLimits limits,
    IServiceScopeFactory scopes, ILogger<MxListener> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (host, port) = HostPort.Parse(settings.Mx!, 25);
        var address = IPAddress.TryParse(host, out var ip) ? ip : IPAddress.Any;
        var (server, _) = SmtpListenerSetup.Create("MX listener", new IPEndPoint(address, port), settings.HeloName ?? settings.Platform.ReturnPathHost,
            limits, auth: null, noDelay: true, certificate: null, log, services =>
            {
                services.Add(new MxMailboxFilter(limits, scopes));
                services.Add(new MxMessageStore(scopes, log));
            });
        await ReprocessPendingAsync(stoppingToken);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reports stored but not processed (the process stopped between the two steps) are processed at start.</summary>
    private async Task ReprocessPendingAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var processor = scope.ServiceProvider.GetRequiredService<InboundReportProcessor>();
        try
        {
            var dmarc = scope.ServiceProvider.GetRequiredService<Mailroom.Core.Dmarc.DmarcIngestion>();
            var unsubscribes = scope.ServiceProvider.GetRequiredService<UnsubscribeService>();
            foreach (var id in await processor.PendingAsync(ct))
                if (!await unsubscribes.TryProcessInboundAsync(id, ct) && !await dmarc.TryProcessInboundAsync(id, ct))
                    await processor.ProcessAsync(id, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Pending inbound reports could not be processed at start (the database may not be migrated yet)");
        }
    }
}

/// <summary>
/// RCPT policy: only addresses at managed return-path hosts (RFC 5321 §3.6.2: no open relay), at most
/// <see cref="SmtpListenerLimits.MaxRecipients"/> a transaction.
/// </summary>
internal sealed class MxMailboxFilter(SmtpListenerLimits limits, IServiceScopeFactory scopes) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken ct) => Task.FromResult(true);

    public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken ct)
    {
        var session = ClientSession.Of(context);
        session.CheckRoomForRecipient(limits);
        await using var scope = scopes.CreateAsyncScope();
        // A server's inbound address (or its inbound domain) first; then the return-path hosts of reports.
        var inbound = scope.ServiceProvider.GetRequiredService<Mailroom.Core.Inbound.InboundRecipients>();
        int? server;
        try
        {
            server = await inbound.ServerOfAsync(to.AsAddress(), ct);
        }
        catch (Mailroom.Core.Inbound.InboundDnsUnavailableException)
        {
            throw CommandGate.Refuse(451, "4.4.3", "Temporary DNS failure checking this domain, try again later");
        }
        if (server is null)
        {
            if (await inbound.IsInboundDomainAsync(to.Host ?? "", ct))
                throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.1.1 No such mailbox here"));
            if (!await scope.ServiceProvider.GetRequiredService<ReturnPathHosts>().IsManagedAsync(to.Host ?? "", ct))
                throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.MailboxUnavailable, "5.7.1 Relaying denied: not a return path of this server"));
        }
        session.Recipients++;
        return true;
    }
}

/// <summary>
/// DATA: commits the message as an inbound report, then processes it. Content over the size limit was refused by
/// <see cref="GuardedMessageStore"/>, so a stored report is at most <see cref="SmtpListenerLimits.MaxMessageBytes"/>. The 250 follows
/// the commit (accepted means durable); a processing failure is logged and kept with the report, never turned into
/// an SMTP error, since the report is already safe. A failed commit answers 451 so the sender retries (RFC 5321 §4.2.1).
/// </summary>
internal sealed class MxMessageStore(IServiceScopeFactory scopes, ILogger log) : GuardedMessageStore
{
    protected override async Task<SmtpResponse> StoreAsync(ClientSession session, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
    {
        long id;
        var mailFrom = transaction.From?.AsAddress() ?? "";
        var raw = buffer.ToArray();
        List<string> reportRecipients;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // Mail for servers' inbound streams: one row per recipient, committed before the 250 (accepted means
            // durable); parsing, checks and posting happen later (InboundWorker).
            var inbound = scope.ServiceProvider.GetRequiredService<Mailroom.Core.Inbound.InboundRecipients>();
            var servers = new List<(int ServerId, string Recipient)>();
            reportRecipients = [];
            foreach (var rcpt in transaction.To.Select(t => t.AsAddress()))
            {
                if (await inbound.ServerOfAsync(rcpt, ct) is { } serverId)
                    servers.Add((serverId, rcpt));
                else
                    reportRecipients.Add(rcpt);
            }
            if (servers.Count > 0)
            {
                await scope.ServiceProvider.GetRequiredService<Mailroom.Core.Inbound.InboundProcessor>().StoreAsync(
                    servers, mailFrom, raw, session.ClientAddress, session.ClientName, ct);
                scope.ServiceProvider.GetRequiredService<Mailroom.Core.Inbound.InboundSignal>().Pulse();
                Mailroom.Core.MailroomMetrics.MxReport("inbound_received");
            }
            if (reportRecipients.Count == 0)
                return SmtpResponse.Ok;
            id = await scope.ServiceProvider.GetRequiredService<InboundReportProcessor>().StoreAsync(mailFrom, reportRecipients, raw, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Inbound report could not be stored");
            return new SmtpResponse(SmtpReplyCode.ServiceUnavailable, "4.3.0 Temporary failure storing the message, try again later");
        }
        await using (var scope = scopes.CreateAsyncScope())
            // Mail to the unsubscribe mailbox is a recipient's unsubscribe (RFC 2369 mailto); to a hosted DMARC
            // reporting address an aggregate report; anything else a bounce or complaint.
            if (!await scope.ServiceProvider.GetRequiredService<UnsubscribeService>().TryProcessInboundAsync(id, ct)
                && !await scope.ServiceProvider.GetRequiredService<Mailroom.Core.Dmarc.DmarcIngestion>().TryProcessInboundAsync(id, ct))
                await scope.ServiceProvider.GetRequiredService<InboundReportProcessor>().ProcessAsync(id, ct);
        Mailroom.Core.MailroomMetrics.MxReport("received");
        return SmtpResponse.Ok;
    }
}
