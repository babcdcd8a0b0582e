using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Tracking;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Tracking;

/// <summary>Filters of <c>GET /messages/outbound/opens</c> and <c>/clicks</c> (spec §8.1); null = no filter. Text
/// filters match whole values, ignoring case; <c>recipient</c> matches part of the address, as in message search.</summary>
public sealed record EngagementSearch(Paging Paging, string? Recipient = null, string? Tag = null, string? ClientName = null,
    string? ClientCompany = null, string? ClientFamily = null, string? OsName = null, string? OsFamily = null, string? OsCompany = null,
    string? Platform = null, string? Country = null, string? Region = null, string? City = null, string? Stream = null);

/// <summary>The opens and clicks lists (spec §8.1), newest first. Every query is scoped by server.</summary>
public sealed class EngagementLog(MailroomDb db)
{
    public async Task<OpenList> OpensAsync(int serverId, EngagementSearch s, CancellationToken ct)
    {
        var (total, rows) = await PageAsync(Filter(serverId, EngagementKind.Open, s), s.Paging, ct);
        return new OpenList(total, rows.Select(EngagementRecorder.ToOpen).ToList());
    }

    public async Task<ClickList> ClicksAsync(int serverId, EngagementSearch s, CancellationToken ct)
    {
        var (total, rows) = await PageAsync(Filter(serverId, EngagementKind.Click, s), s.Paging, ct);
        return new ClickList(total, rows.Select(EngagementRecorder.ToClick).ToList());
    }

    public async Task<OpenList> MessageOpensAsync(int serverId, Guid messageId, Paging paging, CancellationToken ct)
    {
        await RequireMessageAsync(serverId, messageId, ct);
        var (total, rows) = await PageAsync(ForMessage(serverId, messageId, EngagementKind.Open), paging, ct);
        return new OpenList(total, rows.Select(EngagementRecorder.ToOpen).ToList());
    }

    public async Task<ClickList> MessageClicksAsync(int serverId, Guid messageId, Paging paging, CancellationToken ct)
    {
        await RequireMessageAsync(serverId, messageId, ct);
        var (total, rows) = await PageAsync(ForMessage(serverId, messageId, EngagementKind.Click), paging, ct);
        return new ClickList(total, rows.Select(EngagementRecorder.ToClick).ToList());
    }

    private async Task RequireMessageAsync(int serverId, Guid messageId, CancellationToken ct)
    {
        if (!await db.OutboundMessages.AnyAsync(m => m.Id == messageId && m.ServerId == serverId, ct))
            throw new MailroomException(PostmarkErrors.MessageNotFound, $"Message '{messageId}' was not found.");
    }

    private IQueryable<EngagementEvent> ForMessage(int serverId, Guid messageId, EngagementKind kind) =>
        db.EngagementEvents.AsNoTracking().Where(e => e.ServerId == serverId && e.MessageId == messageId && e.Kind == kind);

    private IQueryable<EngagementEvent> Filter(int serverId, EngagementKind kind, EngagementSearch s)
    {
        var q = db.EngagementEvents.AsNoTracking().Where(e => e.ServerId == serverId && e.Kind == kind);
        if (s.Recipient is { } r)
            q = q.Where(e => e.Recipient.ToLower().Contains(r.ToLower()));
        if (s.Tag is { } tag)
            q = q.Where(e => e.Tag == tag);
        if (s.Stream is { } stream)
            q = q.Where(e => e.Stream == stream);
        if (s.Platform is { } p)
        {
            if (!Enum.TryParse<EngagementPlatform>(p, ignoreCase: true, out var platform) || int.TryParse(p, out _))
                throw new MailroomException(PostmarkErrors.InvalidMessagesQuery, $"Invalid 'platform': '{p}'. Use Desktop, WebMail, Mobile or Unknown.");
            q = q.Where(e => e.Platform == platform);
        }
        q = Equal(q, s.ClientName, e => e.ClientName);
        q = Equal(q, s.ClientCompany, e => e.ClientCompany);
        q = Equal(q, s.ClientFamily, e => e.ClientFamily);
        q = Equal(q, s.OsName, e => e.OsName);
        q = Equal(q, s.OsFamily, e => e.OsFamily);
        q = Equal(q, s.OsCompany, e => e.OsCompany);
        q = Equal(q, s.Country, e => e.Country);
        q = Equal(q, s.Region, e => e.Region);
        q = Equal(q, s.City, e => e.City);
        return q;
    }

    private static IQueryable<EngagementEvent> Equal(IQueryable<EngagementEvent> q, string? value,
        System.Linq.Expressions.Expression<Func<EngagementEvent, string>> field)
    {
        if (value is null)
            return q;
        var lower = value.ToLowerInvariant();
        // e => field(e).ToLower() == lower, built once per filter.
        var p = field.Parameters[0];
        var body = System.Linq.Expressions.Expression.Equal(
            System.Linq.Expressions.Expression.Call(field.Body, typeof(string).GetMethod(nameof(string.ToLower), Type.EmptyTypes)!),
            System.Linq.Expressions.Expression.Constant(lower));
        return q.Where(System.Linq.Expressions.Expression.Lambda<Func<EngagementEvent, bool>>(body, p));
    }

    private static async Task<(int, List<EngagementEvent>)> PageAsync(IQueryable<EngagementEvent> q, Paging paging, CancellationToken ct)
    {
        var total = await q.CountAsync(ct);
        var rows = await q.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Skip(paging.Offset).Take(paging.Count).ToListAsync(ct);
        return (total, rows);
    }
}
