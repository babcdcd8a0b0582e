using Mailroom.Core.Webhooks;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>One webhook: edit, rotate its signing secret, delete, and its most recent posting attempts.</summary>
public sealed class WebhookModel(WebhookService hooks) : ServerPageModel
{
    public const int AttemptCount = 50;
    [BindProperty(SupportsGet = true)] public int WebhookId { get; set; }
    [BindProperty] public WebhookForm Form { get; set; } = new();
    public WebhookResponse Webhook { get; private set; } = null!;
    public IReadOnlyList<WebhookAttemptResponse> Attempts { get; private set; } = [];
    public string? NewSecret { get; private set; }
    public string? Error { get; private set; }

    private string Back => $"/app/servers/{Id}/webhooks/{WebhookId}";

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync(write: false) is { } missing)
            return missing;
        Form = WebhookForm.From(Webhook);
        return Page();
    }

    /// <summary>A refused change comes back in the form, with what was typed and the service's message.</summary>
    public async Task<IActionResult> OnPostEditAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        try
        {
            await hooks.EditAsync(Id, WebhookId, Form.ToRequest(Webhook), HttpContext.RequestAborted);
        }
        catch (MailroomException e)
        {
            Error = e.Message;
            Response.StatusCode = 422;
            return Page();
        }
        Flash = "Webhook saved.";
        return LocalRedirect(Back);
    }

    /// <summary>The new secret is in this response only.</summary>
    public async Task<IActionResult> OnPostRotateAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        NewSecret = (await hooks.RotateSecretAsync(Id, WebhookId, HttpContext.RequestAborted)).SigningSecret;
        Form = WebhookForm.From(Webhook);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        if (await LoadAsync(write: true) is { } missing)
            return missing;
        return await ChangeAsync(async () =>
        {
            await hooks.DeleteAsync(Id, WebhookId, HttpContext.RequestAborted);
            return $"Webhook {WebhookId} deleted.";
        }, $"/app/servers/{Id}/webhooks");
    }

    /// <summary>Both calls filter by this server: another server's webhook id is "not found" (1352), answered 404.</summary>
    private Task<IActionResult?> LoadAsync(bool write) => LoadServerAndAsync(async ct =>
    {
        Webhook = await hooks.GetAsync(Id, WebhookId, ct);
        Attempts = (await hooks.AttemptsAsync(Id, WebhookId, AttemptCount, ct)).Attempts;
    }, write);
}
