using System.Collections.Concurrent;
using Mailroom.Core.Events;
using Mailroom.Core.Queue;
using Mailroom.Mail.Addresses;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Delivery;

/// <summary>
/// One round of delivery: claims due <see cref="RecipientDelivery"/> rows under a lease, groups them by
/// destination domain, resolves each domain's MX hosts, hands each group to <see cref="SmtpDeliverer"/> (several
/// messages per connection, at most <see cref="DeliveryOptions.MaxConnectionsPerDomain"/> connections a domain),
/// and records every outcome with its event before the lease is released. A worker that dies leaves its rows
/// leased; when the lease expires (it is short and renewed while the round works, see <see cref="RenewLeasesAsync"/>), or
/// when its node's heartbeat stops, another worker takes them again (at least once). A round that fails while its
/// worker lives releases its unrecorded claims at once (<see cref="RunOnceAsync"/>). The lanes share a message only as
/// its stored bytes, never as a parsed message or a stream (see <see cref="SmtpDeliverer"/>).
/// </summary>
public sealed class DeliveryRunner(IServiceScopeFactory scopes, MxResolver mx, SmtpDeliverer smtp, DeliveryOptions options,
    TimeProvider clock, ILogger<DeliveryRunner> log, VerpKeyring verpKeys)
{
    /// <summary>The claims' owner: this process's node identity, whose heartbeat (<c>nodes</c>) tells the other nodes
    /// whether it is alive (NodeRegistry releases a silent node's claims).</summary>
    private readonly string _owner = options.NodeId;

    /// <summary>
    /// Runs one round; returns how many deliveries it handled (0 = nothing was due). If anything fails between the
    /// claim and the record (a lane's unexpected exception, the record transaction, cancellation), the outcomes known
    /// so far are recorded, every claimed row without a recorded outcome is released at once (not left for the
    /// lease to expire) and the exception is rethrown. A released row is sent again: at least once.
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var claimed = await ClaimAsync(ct);
        if (claimed.Count == 0)
            return 0;
        using var activity = MailroomMetrics.Source.StartActivity("mailroom.deliver")?.SetTag("mailroom.deliveries", claimed.Count);
        var outcomes = new ConcurrentQueue<(RecipientDelivery Delivery, DeliveryOutcome Outcome)>();
        var failures = new ConcurrentQueue<Exception>();
        using var renewing = new CancellationTokenSource();
        var renewal = RenewLeasesAsync(claimed.Select(d => d.Id).ToList(), renewing.Token);
        try
        {
            try
            {
                await DeliverAsync(claimed, outcomes, failures, ct);
            }
            catch (Exception e)
            {
                failures.Enqueue(e); // cancellation, or a failure outside the lanes (loading the messages)
            }
            var recorded = false;
            try
            {
                // A failed round still records what it did: those copies are not sent twice.
                await RecordAsync(outcomes.ToList(), failures.IsEmpty ? ct : CancellationToken.None);
                recorded = true;
            }
            finally
            {
                if (!recorded || outcomes.Count < claimed.Count)
                    await ReleaseAsync(claimed, outcomes.Count, recorded, failures.TryPeek(out var first) ? first : null);
            }
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
        }
        if (failures.TryDequeue(out var failure))
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return claimed.Count;
    }

    /// <summary>Sends the claimed deliveries; an unexpected exception in one lane stops that lane only (queued in
    /// <paramref name="failures"/>), so the other lanes finish and their outcomes are recorded.</summary>
    private async Task DeliverAsync(List<RecipientDelivery> claimed, ConcurrentQueue<(RecipientDelivery, DeliveryOutcome)> outcomes,
        ConcurrentQueue<Exception> failures, CancellationToken ct)
    {
        var messages = await LoadMessagesAsync(claimed, ct);
        var byDomain = claimed.GroupBy(d => options.Relay is null ? d.Domain : "(relay)").ToList();
        using var connections = new SemaphoreSlim(options.MaxConnections);
        await Parallel.ForEachAsync(byDomain, new ParallelOptions { MaxDegreeOfParallelism = options.MaxConnections, CancellationToken = ct }, async (group, token) =>
        {
            var deliveries = group.ToList();
            IReadOnlyList<MxHost> hosts;
            try
            {
                if (options.Relay is { } relay)
                {
                    hosts = [new MxHost(relay.Host, 0, await ResolveRelayAsync(relay.Host, token))];
                }
                else
                {
                    var resolution = await mx.ResolveAsync(group.Key, token);
                    if (resolution.PermanentError is { } permanent || resolution.TransientError is not null)
                    {
                        var kind = resolution.PermanentError is not null ? OutcomeKind.Permanent : OutcomeKind.Transient;
                        foreach (var d in deliveries)
                            outcomes.Enqueue((d, new DeliveryOutcome(d.Id, kind, null, resolution.PermanentError ?? resolution.TransientError!, "", "", null, null)));
                        return;
                    }
                    hosts = resolution.Hosts;
                }
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                log.LogError(e, "Resolving {Destination} failed unexpectedly; its {Count} deliveries are released", group.Key, deliveries.Count);
                failures.Enqueue(e);
                return;
            }
            // A big domain is split over a few connections (one per quarter-connection's worth of messages, at most
            // MaxConnectionsPerDomain); a small one goes over one connection. The lanes share only the stored bytes of
            // a message (a byte array nobody writes): each send reads it through its own stream (SmtpDeliverer).
            var perLane = Math.Max(1, options.MaxMessagesPerConnection / 4);
            var lanes = Math.Clamp((deliveries.Count + perLane - 1) / perLane, 1, options.MaxConnectionsPerDomain);
            var chunks = deliveries.Select((d, i) => (d, i)).GroupBy(x => x.i % lanes, x => x.d).ToList();
            await Parallel.ForEachAsync(chunks, token, async (chunk, t2) =>
            {
                await connections.WaitAsync(t2);
                try
                {
                    var items = new List<DeliveryItem>();
                    foreach (var d in chunk)
                    {
                        if (messages.TryGetValue(d.MessageId, out var m))
                            items.Add(new DeliveryItem(d.Id, d.Recipient, (await verpKeys.SignerAsync(t2)).Encode(d.MessageId, d.RecipientIndex, m.ReturnPathDomain), m.For(d.RecipientIndex)));
                        else
                            outcomes.Enqueue((d, new DeliveryOutcome(d.Id, OutcomeKind.Permanent, null, "Message content is no longer available", "", "", null, null)));
                    }
                    var byId = chunk.ToDictionary(d => d.Id);
                    await smtp.DeliverAsync(hosts, items, r => outcomes.Enqueue((byId[r.DeliveryId], r)), t2);
                }
                catch (Exception e) when (!t2.IsCancellationRequested)
                {
                    log.LogError(e, "A delivery lane to {Destination} failed unexpectedly; its deliveries without an outcome are released", group.Key);
                    failures.Enqueue(e);
                }
                finally
                {
                    connections.Release();
                }
            });
        });
    }

    /// <summary>
    /// Gives back at once the claimed rows this round holds without a recorded outcome (all of them when the record
    /// failed), instead of leaving them leased until <see cref="DeliveryOptions.Lease"/> runs out. Recorded rows are
    /// no longer leased, and a row another worker took meanwhile has another owner: the update leaves both alone.
    /// </summary>
    private async Task ReleaseAsync(List<RecipientDelivery> claimed, int outcomes, bool recorded, Exception? failure)
    {
        var ids = claimed.Select(d => d.Id).ToList();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
            var released = await db.Deliveries
                .Where(d => ids.Contains(d.Id) && d.State == DeliveryState.Pending && d.LeaseOwner == _owner)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), CancellationToken.None);
            log.LogWarning("Delivery round failed ({Reason}) after claiming {Claimed} deliveries, {Outcomes} outcomes {Recorded}; released {Released} claims to be sent again",
                failure?.Message ?? "record failed", claimed.Count, outcomes, recorded ? "recorded" : "not recorded", released);
        }
        catch (Exception e)
        {
            // The database is out of reach: the lease expiry takes the rows back later (at least once all the same).
            log.LogError(e, "Releasing {Count} claimed deliveries failed; they are taken again when their lease expires", ids.Count);
        }
    }

    /// <summary>
    /// While a round works on its claims (SMTP sessions may take minutes), pushes their lease forward every
    /// <see cref="DeliveryOptions.LeaseRenewal"/>, so a short lease never runs out under a live node, and a dead node's
    /// claims run out within <see cref="DeliveryOptions.Lease"/>. Only rows still pending and still this node's are
    /// renewed; a failed renewal is logged and tried again at the next tick.
    /// </summary>
    private async Task RenewLeasesAsync(List<long> ids, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                await Task.Delay(options.LeaseRenewal, clock, ct);
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
                var until = clock.GetUtcNow().ToUnixTimeMilliseconds() + (long)options.Lease.TotalMilliseconds;
                var renewed = await db.Deliveries
                    .Where(d => ids.Contains(d.Id) && d.State == DeliveryState.Pending && d.LeaseOwner == _owner)
                    .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, until), ct);
                log.LogDebug("Renewed the lease of {Renewed} of {Claimed} claimed deliveries until {Until}", renewed, ids.Count, until);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning(e, "Renewing the lease of {Count} claimed deliveries failed; trying again", ids.Count);
            }
        }
    }

    private async Task<IReadOnlyList<System.Net.IPAddress>> ResolveRelayAsync(string host, CancellationToken ct)
    {
        if (System.Net.IPAddress.TryParse(host, out var ip))
            return [ip];
        var r = await mx.ResolveAsync(host, ct);
        return r.Hosts.Where(h => h.Name.Equals(host, StringComparison.OrdinalIgnoreCase)).SelectMany(h => h.Addresses).ToList() is { Count: > 0 } list
            ? list
            : (await System.Net.Dns.GetHostAddressesAsync(host, ct));
    }

    private async Task<List<RecipientDelivery>> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var until = now + (long)options.Lease.TotalMilliseconds;
        // SQLite has one writer, so the UPDATE ... RETURNING is atomic; PostgreSQL skips rows other nodes hold.
        // Deliveries of a paused stream stay queued: the NOT EXISTS probes outbound_messages by primary key and
        // message_streams by its unique (ServerId, StreamId) index, so a pause costs the claim two index lookups.
        var lockClause = db is PostgresMailroomDb ? " FOR UPDATE OF d SKIP LOCKED" : "";
        var sql = $$"""
            UPDATE deliveries SET "LeaseOwner" = {0}, "LeaseUntil" = {1}
            WHERE "Id" IN (SELECT d."Id" FROM deliveries d
                           WHERE d."State" = 0 AND d."NextAttemptAt" <= {2} AND d."LeaseUntil" <= {2}
                             AND NOT EXISTS (SELECT 1 FROM outbound_messages m
                                             JOIN message_streams s ON s."ServerId" = m."ServerId" AND s."StreamId" = m."Stream"
                                             WHERE m."Id" = d."MessageId" AND s."PausedAt" IS NOT NULL)
                           ORDER BY d."NextAttemptAt" LIMIT {3}{{lockClause}})
            RETURNING *
            """;
        return await db.Deliveries.FromSqlRaw(sql, _owner, until, now, options.ClaimBatch).AsNoTracking().ToListAsync(ct);
    }

    /// <summary>A message's stored signed bytes: shared by every lane that delivers it, never written. With open or
    /// click tracking, recipients after the first have signed copies of their own (<c>tracked_copies</c>, see the
    /// Preparation README): each recipient is sent exactly the bytes stored for it.</summary>
    private sealed record LoadedMessage(string ReturnPathDomain, byte[] Mime, Dictionary<int, byte[]>? Copies)
    {
        public byte[] For(int recipientIndex) => Copies is not null && Copies.TryGetValue(recipientIndex, out var copy) ? copy : Mime;
    }

    private async Task<Dictionary<Guid, LoadedMessage>> LoadMessagesAsync(List<RecipientDelivery> claimed, CancellationToken ct)
    {
        var ids = claimed.Select(d => d.MessageId).Distinct().ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var rows = await db.OutboundMessages.AsNoTracking().Where(m => ids.Contains(m.Id) && m.Mime != null)
            .Select(m => new { m.Id, m.ReturnPathDomain, m.Mime }).ToListAsync(ct);
        var wanted = claimed.Where(d => d.RecipientIndex > 0).Select(d => (d.MessageId, d.RecipientIndex)).ToHashSet();
        var copyIds = wanted.Select(w => w.MessageId).Distinct().ToList();
        // One query for the copies of the claimed recipients' messages (at most 50 recipients a message).
        var copies = copyIds.Count == 0 ? []
            : await db.TrackedCopies.AsNoTracking().Where(c => copyIds.Contains(c.MessageId)).ToListAsync(ct);
        var copyBytes = new Dictionary<Guid, Dictionary<int, byte[]>>();
        foreach (var c in copies.Where(c => wanted.Contains((c.MessageId, c.RecipientIndex))))
            (copyBytes.TryGetValue(c.MessageId, out var d) ? d : copyBytes[c.MessageId] = [])[c.RecipientIndex] = c.Mime;
        return rows.ToDictionary(r => r.Id, r => new LoadedMessage(r.ReturnPathDomain, r.Mime!, copyBytes.GetValueOrDefault(r.Id)));
    }

    private async Task RecordAsync(List<(RecipientDelivery Delivery, DeliveryOutcome Outcome)> outcomes, CancellationToken ct)
    {
        if (outcomes.Count == 0)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var recorder = scope.ServiceProvider.GetRequiredService<DeliveryOutcomeRecorder>();
        await recorder.RecordAsync(db, outcomes, ct);
    }
}
