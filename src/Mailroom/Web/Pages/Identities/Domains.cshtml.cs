using Mailroom.Core.Identities;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages.Identities;

/// <summary>Domains are the account's (not a server's): owners and admins only; a member gets 404.</summary>
public sealed class DomainsModel(DomainService domains) : AdminPageModel
{
    public const int PageSize = 50;
    [BindProperty(SupportsGet = true)] public int Offset { get; set; }
    public DomainList List { get; private set; } = new(0, []);

    public async Task<IActionResult> OnGetAsync()
    {
        Offset = Math.Max(0, Offset);
        List = await domains.ListAsync(AccountId, new Paging(PageSize, Offset), HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPostAddAsync(string? name, string? returnPath)
    {
        try
        {
            var d = await domains.CreateAsync(AccountId, new DomainRequest { Name = name, ReturnPathDomain = string.IsNullOrWhiteSpace(returnPath) ? null : returnPath },
                HttpContext.RequestAborted);
            Flash = $"Domain {d.Name} added. Publish its records below, then check.";
            return LocalRedirect($"/app/domains/{d.ID}");
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect("/app/domains");
        }
    }
}
