using Mailroom.Core.Identities;
using Mailroom.Core.Queue;
using Mailroom.Mail.Bounces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Share;

public sealed record SharedFigures(int Sent, int Bounced, int Complaints);

/// <summary>The customer view of one server: the last 30 days' figures, the stored DNS status of the domains and
/// sender signatures its recent mail was sent from, and its activity (the Messages API's search, paged on the server).</summary>
public sealed class ShareIndexModel(MessageLog log, TimeProvider clock) : ShareViewPage
{
    /// <summary>How many of the newest messages name the From addresses whose DNS status is shown.</summary>
    private const int FromSample = 500;
    [BindProperty(SupportsGet = true)] public string? Stream { get; set; }
    [BindProperty(SupportsGet = true)] public string? Recipient { get; set; }
    [BindProperty(SupportsGet = true)] public string? Subject { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public List<string> StreamIds { get; private set; } = [];
    public SharedFigures Figures { get; private set; } = new(0, 0, 0);
    public List<SendingDomain> Domains { get; private set; } = [];
    public List<SenderSignature> Signatures { get; private set; } = [];
    public ListPage<OutboundMessageResponse> List { get; private set; } = ListPage<OutboundMessageResponse>.Empty;

    public async Task<IActionResult> OnGetAsync()
    {
        if (await OpenAsync() is { } refused)
            return refused;
        var ct = HttpContext.RequestAborted;
        var id = Server.Id;
        var since = clock.GetUtcNow().AddDays(-30).ToUnixTimeMilliseconds();
        var sent = await Db.OutboundMessages.AsNoTracking().CountAsync(m => m.ServerId == id && m.ReceivedAt >= since, ct);
        var bounces = await Db.Bounces.AsNoTracking().Where(b => b.ServerId == id && b.BouncedAt >= since)
            .GroupBy(b => b.Type == BounceType.SpamComplaint).Select(g => new { Complaint = g.Key, N = g.Count() }).ToListAsync(ct);
        Figures = new(sent, bounces.Where(b => !b.Complaint).Sum(b => b.N), bounces.Where(b => b.Complaint).Sum(b => b.N));

        // The identities this server sends from: those of its newest messages' From addresses (a bounded sample, so the
        // page costs the same for a server with a million messages), looked up in its own account only.
        var froms = await Db.OutboundMessages.AsNoTracking().Where(m => m.ServerId == id).OrderByDescending(m => m.ReceivedAt)
            .Take(FromSample).Select(m => m.From).ToListAsync(ct);
        var addresses = froms.Select(f => MimeKit.MailboxAddress.TryParse(f, out var a) ? a.Address.ToLowerInvariant() : null)
            .OfType<string>().Distinct().ToList();
        var domains = addresses.Select(a => a[(a.LastIndexOf('@') + 1)..]).Distinct().ToList();
        Domains = await Db.Domains.AsNoTracking().Where(d => d.AccountId == Link.AccountId && domains.Contains(d.Name)).OrderBy(d => d.Name).ToListAsync(ct);
        Signatures = await Db.SenderSignatures.AsNoTracking().Where(s => s.AccountId == Link.AccountId && addresses.Contains(s.NormalizedEmail))
            .OrderBy(s => s.NormalizedEmail).ToListAsync(ct);

        StreamIds = await StreamPicker.SendingStreamIdsAsync(Db, id, ct);
        Stream = StreamPicker.Choose(Stream, StreamIds);
        List = await ListPage<OutboundMessageResponse>.LoadAsync(Offset, async paging =>
        {
            var search = new MessageSearch(paging, Blank(Recipient), null, null, null, null, null, Blank(Subject), Stream, null)
                { CountLimit = ListPage<OutboundMessageResponse>.CountLimit };
            var result = await log.SearchAsync(id, search, ct);
            return (result.Messages, result.TotalCount);
        }, Base, [("stream", Stream), ("recipient", Recipient), ("subject", Subject)], "more than 10,000");
        return Page();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
