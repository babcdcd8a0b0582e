using Mailroom.Contracts;
using Mailroom.Core;
using Mailroom.Core.Accounts;
using Mailroom.Core.Inbound;
using Mailroom.Core.Queue;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>The server's inbound messages through the inbound Messages API's own search (<see cref="InboundLog"/>):
/// same filters, paged on the server.</summary>
public sealed class InboundModel(InboundLog log, PlatformSettings platform) : WebPageModel
{
    public const int PageSize = 50;
    /// <summary>The API's limit on count + offset (10,000).</summary>
    public const int MaxOffset = 10_000 - PageSize;
    public static readonly string[] Statuses = ["queued", "processed", "scheduled", "failed", "blocked"];
    [BindProperty(SupportsGet = true)] public int Id { get; set; }
    [BindProperty(SupportsGet = true)] public string? Recipient { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromEmail { get; set; }
    [BindProperty(SupportsGet = true)] public string? Subject { get; set; }
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromDate { get; set; }
    [BindProperty(SupportsGet = true)] public string? ToDate { get; set; }
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public Server Server { get; private set; } = null!;
    public IReadOnlyList<InboundMessageResponse> Messages { get; private set; } = [];
    public int Total { get; private set; }
    public string? Error { get; private set; }
    public string InboundAddress => $"{Server.InboundHash}@{platform.InboundHost}";

    public async Task<IActionResult> OnGetAsync()
    {
        if (await ServerAsync(Id) is not { } access)
            return NotFoundPage();
        Server = access.Server;
        Offset = Math.Clamp(Offset, 0, MaxOffset);
        Status = Status is { } s && Statuses.Contains(s) ? s : null;
        try
        {
            var result = await log.SearchAsync(Id, new InboundSearch(new Paging(PageSize, Offset), Blank(Recipient), Blank(FromEmail), null,
                Blank(Subject), null, Status, MessageLog.ParseDate(Blank(FromDate), "fromdate", endOfDay: false),
                MessageLog.ParseDate(Blank(ToDate), "todate", endOfDay: true)), HttpContext.RequestAborted);
            Messages = result.InboundMessages;
            Total = result.TotalCount;
        }
        catch (MailroomException e)
        {
            Error = e.Message;
        }
        return Page();
    }

    public string PageLink(int offset)
    {
        var q = new QueryBuilder();
        foreach (var (k, v) in new[] { ("recipient", Recipient), ("fromemail", FromEmail), ("subject", Subject), ("status", Status),
                     ("fromdate", FromDate), ("todate", ToDate) })
            if (!string.IsNullOrEmpty(v))
                q.Add(k, v);
        q.Add("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return $"/app/servers/{Id}/inbound{q}";
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
