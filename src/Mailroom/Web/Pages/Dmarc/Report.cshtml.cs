using Mailroom.Core.Dmarc;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Dmarc;

/// <summary>One aggregate report: its metadata, the published policy and every row, flattened as the API does, with
/// the source's confirmed host name.</summary>
public sealed class DmarcReportModel(DmarcService dmarc) : DmarcPageModel(dmarc)
{
    [BindProperty(SupportsGet = true)] public long ReportId { get; set; }
    public DmarcReportDetails Report { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync())
            return NotFoundPage();
        try
        {
            Report = await Dmarc.GetReportAsync(Record, ReportId, HttpContext.RequestAborted);
        }
        catch (MailroomException)
        {
            return NotFoundPage(); // a report of another domain answers like a missing one
        }
        return Page();
    }
}
