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
        Headers = MessageView.HeaderSection(Details.Body);
        return Page();
    }

    /// <summary>The message's HTML for the iframe, with the same sandbox CSP as the signed-in message page.</summary>
    public async Task<IActionResult> OnGetHtmlAsync()
    {
        if (await LoadAsync() is { } refused)
            return refused;
        return MessageView.SandboxedHtml(Response, Details.HtmlBody);
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
