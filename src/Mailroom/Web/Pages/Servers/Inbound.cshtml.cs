using Mailroom.Core.Inbound;
using Mailroom.Core.Queue;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>The server's inbound messages through the inbound Messages API's own search (<see cref="InboundLog"/>):
/// same filters, paged on the server.</summary>
public sealed class InboundModel(InboundLog log, PlatformSettings platform) : ServerPageModel
{
    public static readonly string[] Statuses = ["queued", "processed", "scheduled", "failed", "blocked"];
    [BindProperty(SupportsGet = true)] public string? Recipient { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromEmail { get; set; }
    [BindProperty(SupportsGet = true)] public string? Subject { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromDate { get; set; }
    [BindProperty(SupportsGet = true)] public string? ToDate { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public ListPage<InboundMessageResponse> List { get; private set; } = ListPage<InboundMessageResponse>.Empty;
    public string InboundAddress => $"{Server.InboundHash}@{platform.InboundHost}";

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAsync())
            return NotFoundPage();
        Status = Status is { } s && Statuses.Contains(s) ? s : null;
        List = await ListPage<InboundMessageResponse>.LoadAsync(Offset, async paging =>
        {
            var result = await log.SearchAsync(Id, new InboundSearch(paging, Blank(Recipient), Blank(FromEmail), null,
                Blank(Subject), null, Status, MessageLog.ParseDate(Blank(FromDate), "fromdate", endOfDay: false),
                MessageLog.ParseDate(Blank(ToDate), "todate", endOfDay: true)), HttpContext.RequestAborted);
            return (result.InboundMessages, result.TotalCount);
        }, $"/app/servers/{Id}/inbound", [("recipient", Recipient), ("fromemail", FromEmail), ("subject", Subject), ("status", Status),
            ("fromdate", FromDate), ("todate", ToDate)]);
        return Page();
    }

    public static string StatusClass(string status) => status switch
    {
        "Processed" => "ok",
        "Failed" or "Blocked" => "bad",
        "Scheduled" => "warn",
        _ => "",
    };

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
