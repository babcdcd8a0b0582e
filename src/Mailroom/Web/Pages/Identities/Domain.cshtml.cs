using Mailroom.Core.Identities;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Identities;

public sealed class DomainModel(DomainService domains) : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public int Id { get; set; }
    public DomainDetails Details { get; private set; } = new();
    private string Back => $"/app/domains/{Id}";

    public async Task<IActionResult> OnGetAsync()
    {
        try
        {
            Details = await domains.GetAsync(AccountId, Id, HttpContext.RequestAborted);
        }
        catch (MailroomException)
        {
            return NotFoundPage(); // another account's domain answers like a missing one
        }
        return Page();
    }

    /// <summary>"Check now": the same DNS checks as the API's verify endpoints, DKIM, Return-Path, then SPF.</summary>
    public Task<IActionResult> OnPostCheckAsync() => Act(async ct =>
    {
        await domains.VerifyDkimAsync(AccountId, Id, ct);
        await domains.VerifyReturnPathAsync(AccountId, Id, ct);
        var d = await domains.VerifySpfAsync(AccountId, Id, ct);
        return d.DKIMVerified && d.ReturnPathDomainVerified ? "All required records are verified." : "Checked: some records are not found yet (DNS changes can take a while).";
    });

    public Task<IActionResult> OnPostRotateAsync() => Act(async ct =>
    {
        await domains.RotateDkimAsync(AccountId, Id, ct);
        return "A new DKIM key is pending: publish its record.";
    });

    public async Task<IActionResult> OnPostDeleteAsync()
    {
        try
        {
            Flash = await domains.DeleteAsync(AccountId, Id, HttpContext.RequestAborted);
            return LocalRedirect("/app/domains");
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect(Back);
        }
    }

    private async Task<IActionResult> Act(Func<CancellationToken, Task<string>> action)
    {
        try
        {
            await domains.GetAsync(AccountId, Id, HttpContext.RequestAborted);
        }
        catch (MailroomException)
        {
            return NotFoundPage();
        }
        return await ChangeAsync(() => action(HttpContext.RequestAborted), Back);
    }
}
