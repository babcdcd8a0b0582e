using Mailroom.Core.Queue;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>The server's messages through the Messages API's own search (<see cref="MessageLog"/>): same filters,
/// paged on the server (one page of rows and a count per request).</summary>
public sealed class ActivityModel(MessageLog log) : StreamPageModel
{
    [BindProperty(SupportsGet = true)] public string? Recipient { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromEmail { get; set; }
    [BindProperty(SupportsGet = true)] public string? Subject { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tag { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromDate { get; set; }
    [BindProperty(SupportsGet = true)] public string? ToDate { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public ListPage<OutboundMessageResponse> List { get; private set; } = ListPage<OutboundMessageResponse>.Empty;

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAndStreamAsync())
            return NotFoundPage();
        var ct = HttpContext.RequestAborted;
        List = await ListPage<OutboundMessageResponse>.LoadAsync(Offset, async paging =>
        {
            var search = new MessageSearch(paging, Blank(Recipient), Blank(FromEmail), Blank(Tag), Blank(Status),
                MessageLog.ParseDate(Blank(FromDate), "fromdate", endOfDay: false), MessageLog.ParseDate(Blank(ToDate), "todate", endOfDay: true),
                Blank(Subject), Stream!, null) { CountLimit = ListPage<OutboundMessageResponse>.CountLimit };
            var result = await log.SearchAsync(Id, search, ct);
            return (result.Messages, result.TotalCount);
        }, $"/app/servers/{Id}/activity", [("stream", Stream), ("recipient", Recipient), ("fromemail", FromEmail), ("subject", Subject), ("tag", Tag),
            ("status", Status), ("fromdate", FromDate), ("todate", ToDate)], "more than 10,000 (narrow the search to go further back)");
        return Page();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
