using System.Text.Json;
using Mailroom.Core.Accounts;
using Mailroom.Core.Queue;
using Mailroom.Core.Stats;
using Mailroom.Core.Storage;
using Mailroom.Core.Tracking;
using Mailroom.Mail.Dkim;
using Mailroom.Mail.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Mailroom.Core.Preparation;

/// <summary>
/// Preparation: turns accepted messages into deliverable ones. For each message, a checklist of named steps,
/// any of which may stop it:
/// <list type="number">
/// <item><c>ResolveSigning</c>: which DKIM key and Return-Path domain the From address earns (sender identities).</item>
/// <item><c>Track</c>: with open or link tracking, put the tracking image and click URLs in (<see cref="TrackingRewrite"/>),
/// one copy per recipient since each carries its own signed tokens; before signing, so the signature covers them.</item>
/// <item><c>Sign</c>: DKIM-sign the composed MIME (RFC 6376, rsa-sha256, relaxed/relaxed), each copy on its own.</item>
/// <item><c>Queue</c>: store the signed message and one delivery row per envelope recipient, in one commit; a
/// sandbox server's message is marked delivered to the sandbox instead, and nothing leaves.</item>
/// </list>
/// Preparing is idempotent: the row moves from Accepted to Prepared only once (a guarded update), so two nodes
/// racing on the same message queue its deliveries once.
/// </summary>
public sealed class MessagePreparer(IServiceScopeFactory scopes, SigningResolver signing, TrackingKeyring trackingKeys, TrackingOptions tracking,
    Events.UnsubscribeKeyring unsubscribeKeys, PlatformSettings platform, TimeProvider clock, ILogger<MessagePreparer> log)
{
    public const int BatchSize = 256;

    /// <summary>Prepares up to <see cref="BatchSize"/> accepted messages; returns how many it handled.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        // Several nodes share one PostgreSQL queue: the round's rows are locked for the round (FOR UPDATE SKIP LOCKED:
        // another node's round takes the next ones), so no two nodes sign the same message only for one of them to
        // lose the guarded update. The lock lives in the round's transaction: a node that dies drops its connection
        // and its rows are free at once. SQLite is one process; its round takes no lock (a write transaction held
        // while signing would stop every other writer).
        RowStatements? claim = null;
        try
        {
            var accepted = db.OutboundMessages.AsNoTracking().Where(m => m.Stage == MessageStage.Accepted);
            if (db is PostgresMailroomDb)
            {
                claim = await RowStatements.BeginAsync(db, ct);
                await db.Database.UseTransactionAsync(claim.Transaction, ct);
                var ids = await db.Database.SqlQueryRaw<Guid>(ClaimRound, (int)MessageStage.Accepted, BatchSize).ToListAsync(ct);
                if (ids.Count == 0)
                    return 0;
                accepted = accepted.Where(m => ids.Contains(m.Id));
            }
            return await PrepareRoundAsync(db, accepted, claim, ct);
        }
        finally
        {
            if (claim is not null)
            {
                await db.Database.UseTransactionAsync(null, CancellationToken.None);
                await claim.DisposeAsync();
            }
        }
    }

    private const string ClaimRound =
        "SELECT \"Id\" AS \"Value\" FROM outbound_messages WHERE \"Stage\" = {0} ORDER BY \"ReceivedAt\" LIMIT {1} FOR UPDATE SKIP LOCKED";

    private async Task<int> PrepareRoundAsync(MailroomDb db, IQueryable<OutboundMessage> accepted, RowStatements? claim, CancellationToken ct)
    {
        var batch = await (from m in accepted
                           orderby m.ReceivedAt
                           select new Candidate(m.Id, m.AccountId, m.ServerId, m.Stream, m.Tag, m.From, m.Mime, m.RecipientsJson, m.TrackOpens, m.TrackLinks,
                               db.Servers.Where(s => s.Id == m.ServerId).Select(s => (DeliveryType?)s.DeliveryType).FirstOrDefault(), m.TraceParent,
                               db.MessageStreams.Where(s => s.ServerId == m.ServerId && s.StreamId == m.Stream)
                                   .Select(s => s.Type == MessageStreamType.Broadcasts && s.UnsubscribeHandling != UnsubscribeHandlingType.Custom
                                                || s.UnsubscribeHandling == UnsubscribeHandlingType.Postmark).FirstOrDefault()))
                          .Take(BatchSize).ToListAsync(ct);
        if (batch.Count == 0)
            return 0;
        using var activity = MailroomMetrics.Source.StartActivity("mailroom.prepare")?.SetTag("mailroom.messages", batch.Count);
        var now = clock.GetUtcNow();
        var prepared = new Prepared[batch.Count];
        // Signing is the CPU-heavy step: spread it over the cores.
        await Parallel.ForAsync(0, batch.Count, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, async (i, token) =>
        {
            using var span = MailroomMetrics.MessageSpan("mailroom.prepare.message", batch[i].Id, batch[i].TraceParent);
            prepared[i] = await PrepareOneAsync(batch[i], now, token);
            span?.SetTag("mailroom.outcome", prepared[i].Failure is null ? "prepared" : "failed");
        });
        await StoreAsync(db, claim, prepared, now, ct);
        MailroomMetrics.Prepared(batch.Count);
        return batch.Count;
    }

    /// <summary>The stored signed message is the wire form, CRLF line ends (RFC 5322 §2.1, RFC 5321 §2.3.8): Delivery
    /// sends these bytes as they are. (<see cref="FormatOptions.Default"/> writes the platform's new line, LF on Linux.)</summary>
    private static readonly FormatOptions WireFormat = new() { NewLineFormat = NewLineFormat.Dos };

    /// <param name="HandlesUnsubscribes">The stream's unsubscribes are Mailroom's (UnsubscribeHandlingType Postmark, or a
    /// Broadcasts stream not set to Custom): each recipient gets their own signed List-Unsubscribe links.</param>
    private sealed record Candidate(Guid Id, int? AccountId, int? ServerId, string Stream, string Tag, string From, byte[]? Mime, string RecipientsJson,
        bool TrackOpens, string TrackLinks, DeliveryType? DeliveryType, string? TraceParent, bool HandlesUnsubscribes);

    /// <param name="Mime">The signed message: recipient 0's copy when personal copies were made.</param>
    /// <param name="Copies">The signed copies of recipients 1.. (tracking or unsubscribe links; empty otherwise).</param>
    /// <param name="Links">The message's tracked links (what click tokens may redirect to).</param>
    private sealed record Prepared(Candidate Message, byte[]? Mime, string ReturnPathDomain, IReadOnlyList<string> Recipients, string? Failure,
        IReadOnlyList<TrackedCopy>? Copies = null, IReadOnlyList<TrackedLink>? Links = null);

    private async Task<Prepared> PrepareOneAsync(Candidate m, DateTimeOffset now, CancellationToken ct)
    {
        var recipients = JsonSerializer.Deserialize<List<string>>(m.RecipientsJson) ?? [];
        if (m.Mime is null)
            return new Prepared(m, null, "", recipients, "The message has no content.");
        try
        {
            // Step ResolveSigning
            var material = await signing.ResolveAsync(m.AccountId, m.From, ct);
            if (material.Refusal is { } refusal)
                return new Prepared(m, null, "", recipients, refusal);
            // Steps Track and Unsubscribe: a recipient's copy carries their own signed tokens (tracking tokens name the
            // recipient index; unsubscribe tokens name the recipient), so such a message is signed once per recipient.
            // Other mail is signed once. See the README.
            // Sandbox servers track like live ones (only delivery differs): their stored copies carry working tokens.
            var track = TrackingRewrite.Wanted(m.TrackOpens, m.TrackLinks);
            var unsubscribe = m.HandlesUnsubscribes && m.ServerId is not null;
            if ((track || unsubscribe) && recipients.Count > 0)
            {
                var signer = track ? await trackingKeys.SignerAsync(ct) : null;
                var unsubscribeTokens = unsubscribe ? await unsubscribeKeys.TokensAsync(ct) : null;
                var links = new LinkTable();
                MimeMessage Personal(int index, LinkTable table, out int tracked)
                {
                    var copy = MimeMessage.Load(new MemoryStream(m.Mime, writable: false), persistent: false, ct);
                    tracked = signer is null ? 0 : TrackingRewrite.Apply(copy, m.Id, index, m.TrackOpens, m.TrackLinks, signer, tracking, table);
                    if (unsubscribeTokens is not null)
                    {
                        // Before signing, so the headers and links are inside the signature (RFC 8058 §4).
                        var token = unsubscribeTokens.Create(new Events.UnsubscribeTarget(m.ServerId!.Value, m.Stream, recipients[index], m.Id));
                        Mailroom.Mail.Composition.UnsubscribeLinks.Apply(copy, Events.UnsubscribeService.HttpsUrl(platform, token),
                            Events.UnsubscribeService.MailtoUrl(platform, token));
                    }
                    return copy;
                }
                var first = Personal(0, links, out var changed);
                if (changed > 0 || unsubscribe)
                {
                    var copies = new List<TrackedCopy>();
                    for (var i = 1; i < recipients.Count; i++)
                        copies.Add(new TrackedCopy { MessageId = m.Id, RecipientIndex = i, Mime = Sign(Personal(i, new LinkTable(), out _), material.Key, now, m.Mime.Length, ct) });
                    return new Prepared(m, Sign(first, material.Key, now, m.Mime.Length, ct), material.ReturnPathDomain, recipients, null, copies,
                        changed > 0 ? links.Links : null);
                }
            }
            // Step Sign
            var message = MimeMessage.Load(new MemoryStream(m.Mime, writable: false), persistent: true, ct);
            return new Prepared(m, Sign(message, material.Key, now, m.Mime.Length, ct), material.ReturnPathDomain, recipients, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "Preparing message {MessageId} failed", m.Id);
            return new Prepared(m, null, "", recipients, "Preparation failed: " + e.Message);
        }
    }

    private static byte[] Sign(MimeMessage message, DkimKey? key, DateTimeOffset now, int sizeHint, CancellationToken ct)
    {
        if (key is not null)
            return DkimSigning.SignToWire(message, key, now, sizeHint); // encodes for a 7-bit transport, writes once, signs the bytes
        message.Prepare(EncodingConstraint.SevenBit);
        using var output = new MemoryStream(sizeHint + 1024);
        message.WriteTo(WireFormat, output, ct);
        return output.ToArray();
    }

    // Step Queue
    private const string InsertCopy =
        "INSERT INTO tracked_copies (\"MessageId\", \"RecipientIndex\", \"Mime\") VALUES (@MessageId, @RecipientIndex, @Mime)";

    private const string InsertLink =
        "INSERT INTO tracked_links (\"MessageId\", \"LinkIndex\", \"Url\", \"Location\") VALUES (@MessageId, @LinkIndex, @Url, @Location)";

    private const string MarkFailed =
        "UPDATE outbound_messages SET \"Stage\" = 2, \"Status\" = @Status, \"StageDetail\" = @Detail WHERE \"Id\" = @Id AND \"Stage\" = 0";

    private const string MarkPrepared =
        "UPDATE outbound_messages SET \"Stage\" = 1, \"Status\" = @Status, \"Mime\" = @Mime, \"ReturnPathDomain\" = @ReturnPath, \"Sandboxed\" = @Sandboxed " +
        "WHERE \"Id\" = @Id AND \"Stage\" = 0";

    /// <summary>
    /// One transaction for the whole round, as plain SQL (<see cref="RowStatements"/>): each message moves from Accepted
    /// once (a guarded update; 0 rows = another node prepared it), then its deliveries or events are inserted.
    /// </summary>
    private static async Task StoreAsync(MailroomDb db, RowStatements? claim, Prepared[] prepared, DateTimeOffset now, CancellationToken ct)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        // In the claim's transaction when there is one (its locks are this round's), else a transaction of its own.
        await using var own = claim is null ? await RowStatements.BeginAsync(db, ct) : null;
        var rows = claim ?? own!;
        var failed = prepared.Where(p => p.Failure is not null).ToList();
        var ok = prepared.Where(p => p.Failure is null).ToList();
        var failedMoved = await rows.ExecuteEachAsync(MarkFailed, failed, (p, r) => r.Guid("Id", p.Message.Id).Add("Status", (int)MessageStatus.Failed).Add("Detail", p.Failure), ct);
        var okMoved = await rows.ExecuteEachAsync(MarkPrepared, ok, (p, r) => r
            .Guid("Id", p.Message.Id).Add("Status", (int)MessageStatus.Sent).Bytes("Mime", p.Mime).Add("ReturnPath", p.ReturnPathDomain)
            .Add("Sandboxed", p.Message.DeliveryType == DeliveryType.Sandbox), ct);

        var events = new List<Queue.MessageEvent>();
        var deliveries = new List<RecipientDelivery>();
        var counters = new List<StatsIncrement>();
        for (var i = 0; i < failed.Count; i++)
        {
            if (failedMoved[i] == 0)
                continue;
            foreach (var r in failed[i].Recipients)
                events.Add(Event(failed[i].Message, r, Queue.MessageEventType.Bounced, nowMs, EventDetails.Bounced(failed[i].Failure!)));
        }
        for (var i = 0; i < ok.Count; i++)
        {
            if (okMoved[i] == 0)
                continue; // another node prepared it
            var m = ok[i].Message;
            var recipients = ok[i].Recipients;
            for (var index = 0; index < recipients.Count; index++)
            {
                var rcpt = recipients[index];
                if (m.ServerId is { } serverId)
                    counters.AddRange(SentCounters(serverId, m, rcpt, now));
                if (m.DeliveryType == DeliveryType.Sandbox)
                {
                    events.Add(Event(m, rcpt, Queue.MessageEventType.Delivered, nowMs, new()
                    {
                        ["DeliveryMessage"] = "Delivered to the sandbox: sandbox servers never deliver mail.",
                        ["DestinationServer"] = "sandbox",
                        ["DestinationIP"] = "",
                    }));
                    continue;
                }
                deliveries.Add(new RecipientDelivery
                {
                    MessageId = m.Id,
                    Recipient = rcpt,
                    RecipientIndex = index,
                    Domain = Mailroom.Mail.Addresses.EmailAddress.DomainOf(rcpt),
                    State = DeliveryState.Pending,
                    NextAttemptAt = nowMs,
                    CreatedAt = nowMs,
                });
            }
        }
        var moved = ok.Where((_, i) => okMoved[i] != 0).ToList();
        await rows.ExecuteEachAsync(InsertCopy, moved.SelectMany(p => p.Copies ?? []).ToList(), (c, r) => r
            .Guid("MessageId", c.MessageId).Add("RecipientIndex", c.RecipientIndex).Bytes("Mime", c.Mime), ct);
        await rows.ExecuteEachAsync(InsertLink, moved.SelectMany(p => (p.Links ?? []).Select(l => (p.Message.Id, l))).ToList(), (x, r) => r
            .Guid("MessageId", x.Id).Add("LinkIndex", x.l.Index).Add("Url", x.l.Url).Add("Location", (int)x.l.Location), ct);
        await QueueRows.InsertDeliveriesAsync(rows, deliveries, ct);
        await QueueRows.InsertEventsAsync(rows, events, ct);
        await StatsCounters.AddAsync(rows, counters, ct);
        await rows.CommitAsync(ct);
    }

    /// <summary>Stats count per recipient (spec §9): each recipient of a prepared message is one sent, and one tracked
    /// when the message asks for open or link tracking.</summary>
    private static IEnumerable<StatsIncrement> SentCounters(int serverId, Candidate m, string recipient, DateTimeOffset now)
    {
        yield return StatsIncrement.For(serverId, m.Stream, m.Tag, now, StatsMetric.Sent, recipient);
        var links = !string.IsNullOrEmpty(m.TrackLinks) && !m.TrackLinks.Equals("None", StringComparison.OrdinalIgnoreCase);
        if (m.TrackOpens)
            yield return StatsIncrement.For(serverId, m.Stream, m.Tag, now, StatsMetric.WithOpenTracking, recipient);
        if (links)
            yield return StatsIncrement.For(serverId, m.Stream, m.Tag, now, StatsMetric.WithLinkTracking, recipient);
        if (m.TrackOpens || links)
            yield return StatsIncrement.For(serverId, m.Stream, m.Tag, now, StatsMetric.Tracked, recipient);
    }

    private static Queue.MessageEvent Event(Candidate m, string recipient, Queue.MessageEventType type, long at, Dictionary<string, string> details) => new()
    {
        MessageId = m.Id,
        ServerId = m.ServerId,
        Recipient = recipient,
        Type = type,
        At = at,
        DetailsJson = JsonSerializer.Serialize(details),
    };
}
