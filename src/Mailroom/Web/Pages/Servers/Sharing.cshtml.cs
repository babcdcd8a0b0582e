using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Servers;

/// <summary>The owner's side of the customer view: share links of one server (owners and admins only; anyone else,
/// and any server not of this account, gets the 404 page).</summary>
public sealed class SharingModel(ShareLinkService links, TimeProvider clock) : ServerPageModel
{
    public List<ServerShareLink> Links { get; private set; } = [];
    public ShareLinkCreated? Created { get; private set; }
    public DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ? Page() : NotFoundPage();

    public async Task<IActionResult> OnPostCreateAsync(string? label, int days)
    {
        if (!await LoadAsync())
            return NotFoundPage();
        try
        {
            // The URL is shown in the answer to this POST only (its token is stored hashed).
            // Out of range (a hand-made form) becomes zero, which CreateAsync refuses with its message.
            var lifetime = days is >= 1 and <= 365 ? TimeSpan.FromDays(days) : TimeSpan.Zero;
            Created = await links.CreateAsync(AccountId, Id, label, lifetime, UserId, HttpContext.RequestAborted);
            Links = await links.ListAsync(AccountId, Id, HttpContext.RequestAborted);
            return Page();
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect($"/app/servers/{Id}/sharing");
        }
    }

    public async Task<IActionResult> OnPostRevokeAsync(int linkId)
    {
        if (!await LoadAsync())
            return NotFoundPage();
        if (await links.RevokeAsync(AccountId, Id, linkId, HttpContext.RequestAborted))
            Flash = "The link is revoked: it no longer opens.";
        else
            FlashError = "That link was not found or is already revoked.";
        return LocalRedirect($"/app/servers/{Id}/sharing");
    }

    private async Task<bool> LoadAsync()
    {
        if (!IsAdmin || !await LoadServerAsync(write: true))
            return false;
        Links = await links.ListAsync(AccountId, Id, HttpContext.RequestAborted);
        return true;
    }
}
