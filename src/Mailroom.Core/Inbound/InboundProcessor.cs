using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Mailroom.Mail.Inbound;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Inbound;

/// <summary>
/// Stores what the MX listener accepted for servers' inbound streams (one row per envelope recipient, committed
/// before the 250), and later processes it: the arrival checks, the payload (<see cref="InboundParser"/>), the inbound
/// rules (a match is Blocked and not posted), then one event and one delivery to <c>InboundHookUrl</c> in the webhooks
/// outbox, in the transaction that moves the row out of Received. Any node may process any row; the move is
/// conditional, so a row is handed to the outbox once.
/// </summary>
public sealed class InboundProcessor(MailroomDb db, WebhookOutbox outbox, InboundAuthentication auth, SpamdCheck spamd, TimeProvider clock,
    ILogger<InboundProcessor> log)
{
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task<IReadOnlyList<Guid>> StoreAsync(IReadOnlyList<(int ServerId, string Recipient)> recipients, string mailFrom, byte[] raw,
        string clientIp, string helo, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = recipients.Select(r => new InboundMessage
        {
            Id = Guid.NewGuid(),
            ServerId = r.ServerId,
            ReceivedAt = now,
            MailFrom = Cap(mailFrom, 320),
            Recipient = Cap(r.Recipient, 320),
            ClientIp = Cap(clientIp, 64),
            Helo = Cap(helo, 255),
            Raw = raw,
            Status = InboundStatus.Received,
        }).ToList();
        db.InboundMessages.AddRange(rows);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return rows.Select(r => r.Id).ToList();
    }

    private static string Cap(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>Rows stored but not processed yet (new ones, and those of a process that stopped in between).</summary>
    public async Task<int> ProcessPendingAsync(CancellationToken ct)
    {
        var ids = await db.InboundMessages.AsNoTracking().Where(m => m.Status == InboundStatus.Received)
            .OrderBy(m => m.ReceivedAt).Select(m => m.Id).Take(100).ToListAsync(ct);
        var done = 0;
        foreach (var id in ids)
        {
            try
            {
                if (await ProcessAsync(id, InboundStatus.Received, ct))
                    done++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Kept as Received: tried again on the next round; the raw message is safe.
                log.LogError(e, "Inbound message {Id} could not be processed", id);
            }
        }
        return done;
    }

    /// <summary>Processes one row that is in <paramref name="from"/> (Received; Blocked for a bypass, which skips the
    /// rules). False when another worker got there first.</summary>
    public async Task<bool> ProcessAsync(Guid id, InboundStatus from, CancellationToken ct)
    {
        var row = await db.InboundMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.Status == from, ct);
        if (row is null)
            return false;
        var server = await db.Servers.AsNoTracking().Where(s => s.Id == row.ServerId)
            .Select(s => new { s.InboundHookUrl, s.RawEmailEnabled, s.InboundSpamThreshold }).FirstAsync(ct);
        var message = InboundParser.Load(row.Raw);
        var extra = await auth.CheckAsync(row, message, ct);
        // SpamAssassin's verdict when the operator runs spamd (the Spamd setting): its headers go to the customer, and a
        // score at or over the server's InboundSpamThreshold (0: off) blocks the message like an inbound rule.
        var spam = await spamd.CheckAsync(row.Raw, ct);
        if (spam is not null)
            extra = [.. extra, .. spam.Headers()];
        var payload = InboundParser.Parse(message, row.Raw, new InboundEnvelope(row.MailFrom, row.Recipient, extra), row.Id,
            DefaultStreams.Inbound, server.RawEmailEnabled);

        var blockedBy = from == InboundStatus.Blocked ? null : await MatchingRuleAsync(row.ServerId, payload.From, ct);
        var spamBlocked = from != InboundStatus.Blocked && blockedBy is null && spam is not null && server.InboundSpamThreshold > 0
            && spam.Score >= server.InboundSpamThreshold;
        var summary = payload with
        {
            RawEmail = null,
            Attachments = payload.Attachments.Select(a => a with { Content = "" }).ToList(),
        };
        var post = blockedBy is null && !spamBlocked && server.InboundHookUrl.Length > 0;
        var status = blockedBy is not null || spamBlocked ? InboundStatus.Blocked : post ? InboundStatus.Queued : InboundStatus.Processed;
        var reason = blockedBy is not null ? $"Blocked by the inbound rule '{blockedBy}'."
            : spamBlocked ? $"Blocked as spam: score {spam!.Score.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} is at or over the server's InboundSpamThreshold of {server.InboundSpamThreshold}."
            : "";

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var moved = await db.InboundMessages.Where(m => m.Id == id && m.Status == from).ExecuteUpdateAsync(u => u
            .SetProperty(m => m.Status, status)
            .SetProperty(m => m.FromEmail, Cap(payload.From.ToLowerInvariant(), 320))
            .SetProperty(m => m.Subject, payload.Subject)
            .SetProperty(m => m.MailboxHash, Cap(payload.MailboxHash, 320))
            .SetProperty(m => m.Tag, Cap(payload.Tag, 1000))
            .SetProperty(m => m.SummaryJson, JsonSerializer.Serialize(summary, Json))
            .SetProperty(m => m.BlockedReason, reason), ct);
        if (moved == 0)
            return false;
        if (post)
        {
            var ev = outbox.AddInbound(db, row.ServerId, server.InboundHookUrl, JsonSerializer.Serialize(payload, Json));
            await db.SaveChangesAsync(ct);
            await db.InboundMessages.Where(m => m.Id == id).ExecuteUpdateAsync(u => u.SetProperty(m => m.WebhookEventId, ev.Id), ct);
        }
        await tx.CommitAsync(ct);
        db.ChangeTracker.Clear();
        Mailroom.Core.MailroomMetrics.MxReport(status == InboundStatus.Blocked ? "inbound_blocked" : "inbound");
        return true;
    }

    /// <summary>The rule that blocks <paramref name="from"/>: the address itself, or its domain (spec §12.1).</summary>
    private async Task<string?> MatchingRuleAsync(int serverId, string from, CancellationToken ct)
    {
        from = from.Trim().ToLowerInvariant();
        if (from.Length == 0)
            return null;
        var at = from.LastIndexOf('@');
        var domain = at >= 0 ? from[(at + 1)..] : from;
        return await db.InboundRules.AsNoTracking().Where(r => r.ServerId == serverId && (r.Rule == from || r.Rule == domain))
            .Select(r => r.Rule).FirstOrDefaultAsync(ct);
    }
}
