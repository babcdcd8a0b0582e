using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Inbound;

/// <summary>Inbound rule triggers (spec §12.1) of one server: block mail from an address or a whole domain.</summary>
public sealed class InboundRuleService(MailroomDb db, TimeProvider clock)
{
    public async Task<InboundRuleList> ListAsync(int serverId, Paging paging, CancellationToken ct)
    {
        var q = db.InboundRules.AsNoTracking().Where(r => r.ServerId == serverId);
        var total = await q.CountAsync(ct);
        var rules = await q.OrderBy(r => r.Id).Skip(paging.Offset).Take(paging.Count).Select(r => new InboundRuleResponse(r.Id, r.Rule)).ToListAsync(ct);
        return new InboundRuleList(total, rules);
    }

    public async Task<InboundRuleResponse> CreateAsync(int serverId, InboundRuleRequest? request, CancellationToken ct)
    {
        var rule = request?.Rule?.Trim().TrimEnd('.').ToLowerInvariant();
        if (string.IsNullOrEmpty(rule))
            throw new MailroomException(PostmarkErrors.NoInboundRuleData, "Provide a 'Rule': an email address or a domain to block.");
        var valid = rule.Contains('@')
            ? Mailroom.Mail.Addresses.EmailAddress.IsValid(rule)
            : Mailroom.Mail.Addresses.EmailAddress.IsValidDomain(rule);
        if (!valid || rule.Length > 320)
            throw new MailroomException(PostmarkErrors.InvalidInboundRule, $"The rule '{request!.Rule}' is neither an email address nor a domain.");
        if (await db.InboundRules.AnyAsync(r => r.ServerId == serverId && r.Rule == rule, ct))
            throw new MailroomException(PostmarkErrors.InboundRuleExists, $"The rule '{rule}' already exists.");
        var row = new InboundRule { ServerId = serverId, Rule = rule, CreatedAt = clock.GetUtcNow().ToUnixTimeMilliseconds() };
        db.InboundRules.Add(row);
        await db.SaveChangesAsync(ct);
        return new InboundRuleResponse(row.Id, row.Rule);
    }

    public async Task DeleteAsync(int serverId, int id, CancellationToken ct)
    {
        if (await db.InboundRules.Where(r => r.ServerId == serverId && r.Id == id).ExecuteDeleteAsync(ct) == 0)
            throw new MailroomException(PostmarkErrors.InboundRuleNotFound, $"Inbound rule {id} was not found.");
    }
}
