using Mailroom.Core.Inbound;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>One inbound message: its parsed fields, bodies and headers, its webhook posting status and attempts, and
/// the inbound API's two actions (retry a failed posting, bypass the rules of a blocked message).</summary>
public sealed class InboundMessageModel(InboundLog log) : ServerPageModel
{
    [BindProperty(SupportsGet = true)] public Guid MessageId { get; set; }
    public InboundMessageDetails Details { get; private set; } = null!;

    private string Back => $"/app/servers/{Id}/inbound/{MessageId}";

    public async Task<IActionResult> OnGetAsync() => await LoadAsync(write: false) ?? Page();

    /// <summary>The message's HTML, for the page's iframe only, under the same sandbox CSP as an outbound message's.</summary>
    public async Task<IActionResult> OnGetHtmlAsync()
    {
        if (await LoadAsync(write: false) is { } missing)
            return missing;
        return MessageView.SandboxedHtml(Response, Details.HtmlBody);
    }

    public async Task<IActionResult> OnPostRetryAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        return await ChangeAsync(async () =>
        {
            await log.RetryAsync(Id, MessageId, HttpContext.RequestAborted);
            return "The message will be posted again.";
        }, Back);
    }

    public async Task<IActionResult> OnPostBypassAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        return await ChangeAsync(async () =>
        {
            await log.BypassAsync(Id, MessageId, HttpContext.RequestAborted);
            return "The message bypassed the inbound rules and will be posted.";
        }, Back);
    }

    /// <summary>Filtered by this server: another server's message is "not found" (701), answered 404.</summary>
    private Task<IActionResult?> LoadAsync(bool write) =>
        LoadServerAndAsync(async ct => Details = await log.DetailsAsync(Id, MessageId, ct), write);
}
