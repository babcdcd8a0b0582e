using Mailroom.Core.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>A server's webhooks (per stream) and the form to add one, through the Webhooks API's own service.</summary>
public sealed class WebhooksModel(WebhookService hooks) : ServerPageModel
{
    [BindProperty(SupportsGet = true)] public string? Stream { get; set; }
    [BindProperty] public WebhookForm Form { get; set; } = new();
    public List<string> StreamIds { get; private set; } = [];
    public IReadOnlyList<WebhookResponse> Webhooks { get; private set; } = [];
    public WebhookResponse? Created { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadAsync(write: false))
            return NotFoundPage();
        Form = new WebhookForm { Stream = Stream, Delivery = true, Bounce = true };
        return Page();
    }

    /// <summary>The signing secret is shown in this response only (never in a redirect, a cookie or a URL); a refused
    /// webhook comes back in the form with the service's message.</summary>
    public async Task<IActionResult> OnPostCreateAsync()
    {
        if (!await LoadServerAsync(write: true))
            return NotFoundPage();
        try
        {
            Created = await hooks.CreateAsync(Id, Form.ToRequest(null), HttpContext.RequestAborted);
            Form = new WebhookForm { Delivery = true, Bounce = true };
            Stream = null;
        }
        catch (MailroomException e)
        {
            Error = e.Message;
            Response.StatusCode = 422;
        }
        await LoadAsync(write: true);
        return Page();
    }

    private async Task<bool> LoadAsync(bool write)
    {
        if (!await LoadServerAsync(write))
            return false;
        var ct = HttpContext.RequestAborted;
        // Webhooks belong to outbound and broadcast streams (inbound mail goes to the server's InboundHookUrl).
        StreamIds = await Db.MessageStreams.AsNoTracking()
            .Where(s => s.ServerId == Id && s.Type != MessageStreamType.Inbound && s.ArchivedAt == null)
            .OrderBy(s => s.Id).Select(s => s.StreamId).ToListAsync(ct);
        if (Stream is not null && !StreamIds.Contains(Stream))
            Stream = null;
        Webhooks = (await hooks.ListAsync(Id, Stream, ct)).Webhooks;
        return true;
    }

    public static string Triggers(WebhookResponse w)
    {
        var t = w.Triggers;
        var on = new List<string>();
        if (t.Delivery.Enabled) on.Add("Delivery");
        if (t.Bounce.Enabled) on.Add(t.Bounce.IncludeContent ? "Bounce (with content)" : "Bounce");
        if (t.SpamComplaint.Enabled) on.Add(t.SpamComplaint.IncludeContent ? "Spam complaint (with content)" : "Spam complaint");
        if (t.Open.Enabled) on.Add(t.Open.PostFirstOpenOnly ? "Open (first only)" : "Open");
        if (t.Click.Enabled) on.Add("Click");
        if (t.SubscriptionChange.Enabled) on.Add("Subscription change");
        return on.Count == 0 ? "none" : string.Join(", ", on);
    }
}
