using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Bounces;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Events;

/// <summary>Filters of <c>GET /bounces</c> (spec §6.1).</summary>
public sealed record BounceQuery(Paging Paging, string? Type = null, bool? Inactive = null, string? EmailFilter = null, string? Tag = null,
    string? MessageId = null, DateTimeOffset? FromDate = null, DateTimeOffset? ToDate = null, string Stream = Mailroom.Contracts.DefaultStreams.Outbound);

/// <summary>The Bounce API (spec §6) over one server's bounces: every query filters by server id.</summary>
public sealed class BounceService(MailroomDb db, Mailroom.Core.Webhooks.WebhookOutbox webhooks)
{
    public async Task<DeliveryStats> StatsAsync(int serverId, CancellationToken ct)
    {
        var counts = await db.Bounces.AsNoTracking().Where(b => b.ServerId == serverId)
            .GroupBy(b => b.Type).Select(g => new { Type = g.Key, Count = g.Count() }).ToListAsync(ct);
        var inactive = await db.Suppressions.AsNoTracking().Where(s => s.ServerId == serverId).Select(s => s.Email).Distinct().CountAsync(ct);
        var rows = new List<BounceCount> { new() { Name = "All", Count = counts.Sum(c => c.Count) } };
        rows.AddRange(counts.OrderBy(c => (int)c.Type).Select(c => new BounceCount { Type = c.Type.ToString(), Name = c.Type.Name, Count = c.Count }));
        return new DeliveryStats(inactive, rows);
    }

    public async Task<BounceList> ListAsync(int serverId, BounceQuery q, CancellationToken ct)
    {
        var query = db.Bounces.AsNoTracking().Where(b => b.ServerId == serverId && b.Stream == q.Stream);
        if (q.Type is { } typeName)
        {
            if (!Enum.TryParse<BounceType>(typeName, ignoreCase: true, out var type) || int.TryParse(typeName, out _))
                throw new MailroomException(PostmarkErrors.InvalidBounceQuery, $"Unknown bounce 'type': '{typeName}'.");
            query = query.Where(b => b.Type == type);
        }
        if (q.Inactive is { } inactive)
            query = query.Where(b => b.Inactive == inactive);
        if (q.EmailFilter is { } email)
        {
            var lower = email.ToLowerInvariant();
            query = query.Where(b => b.Email.Contains(lower));
        }
        if (q.Tag is { } tag)
            query = query.Where(b => b.Tag == tag);
        if (q.MessageId is { } mid)
        {
            if (!Guid.TryParse(mid, out var id))
                return new BounceList(0, []);
            query = query.Where(b => b.MessageId == id);
        }
        if (q.FromDate is { } from)
        {
            var ms = from.ToUnixTimeMilliseconds();
            query = query.Where(b => b.BouncedAt >= ms);
        }
        if (q.ToDate is { } to)
        {
            var ms = to.ToUnixTimeMilliseconds();
            query = query.Where(b => b.BouncedAt <= ms);
        }
        var total = await query.CountAsync(ct);
        var page = await query.OrderByDescending(b => b.BouncedAt).ThenByDescending(b => b.Id)
            .Skip(q.Paging.Offset).Take(q.Paging.Count).ToListAsync(ct);
        return new BounceList(total, page.Select(b => ToResponse(b, withContent: false)).ToList());
    }

    public async Task<BounceResponse> GetAsync(int serverId, long id, CancellationToken ct) =>
        ToResponse(await LoadAsync(serverId, id, tracking: false, ct), withContent: true);

    public async Task<BounceDump> DumpAsync(int serverId, long id, CancellationToken ct) =>
        new((await LoadAsync(serverId, id, tracking: false, ct)).Content ?? "");

    /// <summary>
    /// Reactivates the address: removes the suppression this kind of bounce created in the bounce's stream.
    /// Spam complaints cannot be reactivated (1003): only the recipient may withdraw one.
    /// </summary>
    public async Task<BounceActivated> ActivateAsync(int serverId, long id, CancellationToken ct)
    {
        var bounce = await LoadAsync(serverId, id, tracking: true, ct);
        if (!bounce.CanActivate)
            throw new MailroomException(PostmarkErrors.BounceCannotActivate, "This bounce cannot be activated: the recipient marked the message as spam.");
        var complaint = await db.Suppressions.AnyAsync(s => s.ServerId == serverId && s.Stream == bounce.Stream && s.Email == bounce.Email
            && s.Reason == SuppressionReason.SpamComplaint, ct);
        if (complaint)
            throw new MailroomException(PostmarkErrors.BounceCannotActivate, "This address cannot be activated: the recipient marked a message as spam.");
        // The removed suppression, the bounces made active and the SubscriptionChange webhook (SuppressSending false, as
        // Postmark posts on reactivation) commit together: the outbox's rule.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var removed = await db.Suppressions.Where(s => s.ServerId == serverId && s.Stream == bounce.Stream && s.Email == bounce.Email
            && s.Reason == SuppressionReason.HardBounce).ToListAsync(ct);
        foreach (var suppression in removed)
        {
            db.Suppressions.Remove(suppression);
            await webhooks.AddSubscriptionChangeAsync(db, suppression, suppress: false, ct);
        }
        await db.Bounces.Where(b => b.ServerId == serverId && b.Stream == bounce.Stream && b.Email == bounce.Email && b.Inactive)
            .ExecuteUpdateAsync(u => u.SetProperty(b => b.Inactive, false), ct);
        bounce.Inactive = false;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new BounceActivated("OK", ToResponse(bounce, withContent: true));
    }

    private async Task<Bounce> LoadAsync(int serverId, long id, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.Bounces : db.Bounces.AsNoTracking();
        return await q.FirstOrDefaultAsync(b => b.ServerId == serverId && b.Id == id, ct)
            ?? throw new MailroomException(PostmarkErrors.BounceNotFound, $"No bounce was found with ID {id}.");
    }

    internal static BounceResponse ToResponse(Bounce b, bool withContent) => new()
    {
        ID = b.Id,
        Type = b.Type.ToString(),
        TypeCode = b.Type.TypeCode,
        Name = b.Type.Name,
        Tag = b.Tag,
        MessageID = b.MessageId?.ToString(),
        ServerID = b.ServerId,
        MessageStream = b.Stream,
        Description = b.Type.Description,
        Details = b.Details,
        Email = b.Email,
        From = b.From,
        BouncedAt = DateTimeOffset.FromUnixTimeMilliseconds(b.BouncedAt),
        DumpAvailable = b.Content is not null,
        Inactive = b.Inactive,
        CanActivate = b.CanActivate,
        Subject = b.Subject,
        Content = withContent ? b.Content ?? "" : null,
    };
}
