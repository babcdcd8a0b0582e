using Mailroom.Core.Dmarc;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Dmarc;

/// <summary>A monitored domain of the account, with how many reports it has and the newest one's period end.</summary>
public sealed record MonitoredDomain(int Id, string Domain, string ReportingAddress, int Reports, DateTime? LastReportEnd);

/// <summary>An account domain not monitored yet; only DKIM-verified ones can start.</summary>
public sealed record UnmonitoredDomain(int Id, string Name, bool Verified);

/// <summary>DMARC overview: the account's monitored domains and its other domains with "Start monitoring". Domains are
/// the account's, so owners and admins only (a member gets 404, as on the domains pages).</summary>
public sealed class DmarcIndexModel(DmarcService dmarc, PlatformSettings platform) : AdminPageModel
{
    public IReadOnlyList<MonitoredDomain> Monitored { get; private set; } = [];
    public IReadOnlyList<UnmonitoredDomain> Unmonitored { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        var records = await Db.DmarcDomains.AsNoTracking().Where(d => d.AccountId == AccountId).OrderBy(d => d.Domain).ToListAsync(ct);
        var ids = records.Select(r => r.Id).ToList();
        var stats = await Db.DmarcReports.AsNoTracking().Where(r => ids.Contains(r.DomainId)).GroupBy(r => r.DomainId)
            .Select(g => new { g.Key, Count = g.Count(), Last = g.Max(r => r.DateRangeEnd) }).ToDictionaryAsync(x => x.Key, ct);
        Monitored = records.Select(r => new MonitoredDomain(r.Id, r.Domain, DmarcService.ReportingAddress(platform, r),
            stats.TryGetValue(r.Id, out var s) ? s.Count : 0, stats.TryGetValue(r.Id, out var l) ? l.Last : null)).ToList();
        var watched = records.Where(r => r.SendingDomainId != null).Select(r => r.SendingDomainId!.Value).ToHashSet();
        Unmonitored = (await Db.Domains.AsNoTracking().Where(d => d.AccountId == AccountId).OrderBy(d => d.Name)
                .Select(d => new UnmonitoredDomain(d.Id, d.Name, d.DkimVerified)).ToListAsync(ct))
            .Where(d => !watched.Contains(d.Id)).ToList();
        return Page();
    }

    /// <summary>"Start monitoring": the same as <c>POST /domains/{id}/dmarc</c>; the digest goes to the account's address.</summary>
    public async Task<IActionResult> OnPostStartAsync(int domainId)
    {
        try
        {
            var record = await dmarc.EnableForDomainAsync(AccountId, domainId, null, HttpContext.RequestAborted);
            Flash = $"DMARC monitoring is on for {record.Domain}. Publish the record below, then verify it.";
            return LocalRedirect($"/app/dmarc/{record.Id}");
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect("/app/dmarc");
        }
    }
}
