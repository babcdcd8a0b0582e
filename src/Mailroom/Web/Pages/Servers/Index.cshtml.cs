using Mailroom.Mail.Bounces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

public readonly record struct ServerFigures(int Sent, int Bounced, int Complaints);

public sealed class ServersModel(TimeProvider clock) : WebPageModel
{
    public const int PageSize = 25;
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public int Total { get; private set; }
    public List<Server> Servers { get; private set; } = [];
    public Dictionary<int, ServerFigures> Figures { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        Offset = Math.Max(0, Offset);
        var q = Db.Servers.AsNoTracking().Where(s => s.AccountId == AccountId);
        if (VisibleServerIds is { } visible)
            q = q.Where(s => visible.Contains(s.Id));
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var lower = Q.Trim().ToLowerInvariant();
            q = q.Where(s => s.NormalizedName.Contains(lower));
        }
        Total = await q.CountAsync(ct);
        Servers = await q.OrderBy(s => s.Id).Skip(Offset).Take(PageSize).ToListAsync(ct);
        // Figures of this page's servers only: three grouped counts over indexed (server, time) columns.
        var ids = Servers.Select(s => s.Id).ToList();
        var since = clock.GetUtcNow().AddDays(-30).ToUnixTimeMilliseconds();
        var sent = await Db.OutboundMessages.AsNoTracking().Where(m => m.ServerId != null && ids.Contains(m.ServerId.Value) && m.ReceivedAt >= since)
            .GroupBy(m => m.ServerId!.Value).Select(g => new { g.Key, N = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.N, ct);
        var bounces = await Db.Bounces.AsNoTracking().Where(b => ids.Contains(b.ServerId) && b.BouncedAt >= since)
            .GroupBy(b => new { b.ServerId, Complaint = b.Type == BounceType.SpamComplaint })
            .Select(g => new { g.Key.ServerId, g.Key.Complaint, N = g.Count() }).ToListAsync(ct);
        Figures = ids.ToDictionary(id => id, id => new ServerFigures(
            sent.GetValueOrDefault(id),
            bounces.Where(b => b.ServerId == id && !b.Complaint).Sum(b => b.N),
            bounces.Where(b => b.ServerId == id && b.Complaint).Sum(b => b.N)));
    }

    public async Task<IActionResult> OnPostCreateAsync(string? name, string? deliveryType, [FromServices] ServerService servers)
    {
        if (!IsAdmin)
            return NotFoundPage();
        try
        {
            var created = await servers.CreateAsync(AccountId, new ServerRequest { Name = name, DeliveryType = deliveryType }, HttpContext.RequestAborted);
            Flash = $"Server '{created.Name}' created.";
            return LocalRedirect($"/app/servers/{created.ID}");
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect("/app/servers");
        }
    }
}
