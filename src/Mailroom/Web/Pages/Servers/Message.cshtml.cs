using System.Text;
using Mailroom.Core.Queue;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

public sealed class MessageModel(MessageLog log) : ServerPageModel
{
    private const int RawPreviewChars = 256 * 1024;
    [BindProperty(SupportsGet = true)] public Guid MessageId { get; set; }
    public OutboundMessageDetails Details { get; private set; } = null!;
    public string Headers { get; private set; } = "";
    public string RawPreview { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is { } missing)
            return missing;
        var raw = Details.Body;
        Headers = MessageView.HeaderSection(raw);
        RawPreview = raw.Length > RawPreviewChars ? raw[..RawPreviewChars] + "\n… (truncated: download the whole message)" : raw;
        return Page();
    }

    /// <summary>
    /// The message's HTML, for the message page's iframe only. Its own CSP makes it a sandboxed document with a unique
    /// origin (no script, no forms, no access to the app's cookies or DOM) and no network but inline images, so
    /// neither script nor tracking pixels in customer mail run or load in the operator's browser.
    /// </summary>
    public async Task<IActionResult> OnGetHtmlAsync()
    {
        if (await LoadAsync() is { } missing)
            return missing;
        return MessageView.SandboxedHtml(Response, Details.HtmlBody);
    }

    public async Task<IActionResult> OnGetRawAsync()
    {
        if (await LoadAsync() is { } missing)
            return missing;
        Response.Headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
        return File(Encoding.UTF8.GetBytes(Details.Body), "message/rfc822", $"{MessageId}.eml");
    }

    private Task<IActionResult?> LoadAsync() =>
        LoadServerAndAsync(async ct => Details = await log.DetailsAsync(Id, MessageId, ct));
}
