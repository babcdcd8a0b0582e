using Mailroom.Core.Queue;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Share;

/// <summary>One message of the shared server (details, timeline, bodies, headers); any other server's message is 404.</summary>
public sealed class ShareMessageModel(MessageLog log) : ShareViewPage
{
    [BindProperty(SupportsGet = true)] public Guid MessageId { get; set; }
    public OutboundMessageDetails Details { get; private set; } = null!;
    public string Headers { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is { } refused)
            return refused;
        var raw = Details.Body;
        // The header section ends at the first empty line (RFC 5322 §2.1).
        var end = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) end = raw.IndexOf("\n\n", StringComparison.Ordinal);
        Headers = end < 0 ? raw : raw[..end];
        return Page();
    }

    /// <summary>The message's HTML for the iframe, with the same sandbox CSP as the signed-in message page.</summary>
    public async Task<IActionResult> OnGetHtmlAsync()
    {
        if (await LoadAsync() is { } refused)
            return refused;
        Response.Headers.ContentSecurityPolicy = WebApp.MessageHtmlPolicy;
        Response.Headers.XFrameOptions = "SAMEORIGIN";
        return Content(Details.HtmlBody, "text/html; charset=utf-8");
    }

    private async Task<IActionResult?> LoadAsync()
    {
        if (await OpenAsync() is { } refused)
            return refused;
        try
        {
            Details = await log.DetailsAsync(Server.Id, MessageId, HttpContext.RequestAborted); // scoped by the link's server
            return null;
        }
        catch (MailroomException)
        {
            return NotFoundPage();
        }
    }
}
