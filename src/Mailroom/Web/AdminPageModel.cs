using Microsoft.AspNetCore.Mvc.Filters;

namespace Mailroom.Web;

/// <summary>
/// Base of the account's own pages (domains, sender signatures, DMARC): they belong to the account, not to a server, so
/// only owners and admins see them. Anyone else gets the 404 page for every handler, GET or POST, before it runs: the
/// same answer as for a page that does not exist.
/// </summary>
public abstract class AdminPageModel : WebPageModel
{
    public override Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        if (IsAdmin)
            return base.OnPageHandlerExecutionAsync(context, next);
        context.Result = NotFoundPage();
        return Task.CompletedTask;
    }
}
