using Mailroom.Core.Dmarc;

namespace Mailroom.Web.Pages.Dmarc;

/// <summary>Base of the pages of one monitored domain (<c>/app/dmarc/{id}</c>…): the record only when it is the signed-in
/// account's (owners and admins only, <see cref="AdminPageModel"/>); otherwise the page answers 404 like a record that
/// does not exist.</summary>
public abstract class DmarcPageModel(DmarcService dmarc) : AdminPageModel
{
    [Microsoft.AspNetCore.Mvc.BindProperty(SupportsGet = true)] public int Id { get; set; }
    public DmarcDomain Record { get; private set; } = new();
    protected DmarcService Dmarc => dmarc;

    protected async Task<bool> LoadAsync()
    {
        if (await dmarc.FindForAccountAsync(AccountId, Id, HttpContext.RequestAborted) is not { } record)
            return false;
        Record = record;
        return true;
    }
}
