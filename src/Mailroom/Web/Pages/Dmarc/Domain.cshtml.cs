using Mailroom.Core.Dmarc;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Dmarc;

public sealed record ReportLine(long Id, string Organization, string ExternalId, DateTime Begin, DateTime End, int Rows);

/// <summary>One monitored domain: the suggested <c>_dmarc</c> record, "Verify", the reports (paged on the server, newest
/// period first) and the way to "Who sends as you".</summary>
public sealed class DmarcDomainModel(DmarcService dmarc) : DmarcPageModel(dmarc)
{
    public const int PageSize = 25;
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public DmarcDnsSnippet Dns { get; private set; } = new("", "");
    public string ReportingAddress { get; private set; } = "";
    public IReadOnlyList<ReportLine> Reports { get; private set; } = [];
    public int Total { get; private set; }

    /// <summary>The TXT record's content without the quotes Postmark's API puts around it (most DNS providers add them).</summary>
    public string DnsValue => Dns.Value.Trim('"');

    private string Back => $"/app/dmarc/{Id}";

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync())
            return NotFoundPage();
        var described = Dmarc.DescribeForAccount(Record, null);
        Dns = described.Dns;
        ReportingAddress = described.ReportingUri["mailto:".Length..];
        Offset = Math.Max(0, Offset);
        var query = Db.DmarcReports.AsNoTracking().Where(r => r.DomainId == Record.Id);
        Total = await query.CountAsync(HttpContext.RequestAborted);
        Reports = await query.OrderByDescending(r => r.DateRangeBegin).ThenByDescending(r => r.Id).Skip(Offset).Take(PageSize)
            .Select(r => new ReportLine(r.Id, r.OrganizationName, r.ExternalId, r.DateRangeBegin, r.DateRangeEnd, r.RecordCount))
            .ToListAsync(HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>"Verify": whether <c>_dmarc.&lt;domain&gt;</c> now sends its aggregate reports here (as <c>POST /records/my/verify</c>).</summary>
    public async Task<IActionResult> OnPostVerifyAsync()
    {
        if (!await LoadAsync())
            return NotFoundPage();
        return await ChangeAsync(async () =>
        {
            var result = await Dmarc.VerifyAsync(Record, HttpContext.RequestAborted);
            if (!result.Verified)
                throw new MailroomException(DmarcService.NotVerifiedErrorCode,
                    $"No DMARC record at _dmarc.{Record.Domain} sends reports here yet (DNS changes can take a while).");
            return $"Verified: the DMARC record of {Record.Domain} sends its reports here.";
        }, Back);
    }

    public async Task<IActionResult> OnPostStopAsync()
    {
        if (!await LoadAsync())
            return NotFoundPage();
        try
        {
            Flash = $"DMARC monitoring of {await Dmarc.DisableForDomainAsync(AccountId, Record.SendingDomainId ?? 0, HttpContext.RequestAborted)} is off; its reports were deleted.";
            return LocalRedirect("/app/dmarc");
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect(Back);
        }
    }
}
