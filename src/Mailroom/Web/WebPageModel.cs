using System.Security.Claims;
using Mailroom.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>
/// Base of every signed-in page: the user (checked against its security stamp by the cookie handler), its account,
/// and the 404 page that answers "not yours" and "not there" alike. Whether one server is visible is decided by
/// <see cref="Pages.Servers.ServerPageModel"/>; which servers a list shows, by <see cref="VisibleServerIds"/>.
/// </summary>
public abstract class WebPageModel : PageModel
{
    [TempData] public string? Flash { get; set; }
    [TempData] public string? FlashError { get; set; }

    protected MailroomDb Db => HttpContext.RequestServices.GetRequiredService<MailroomDb>();

    public WebUser CurrentUser => HttpContext.Items[typeof(WebUser)] as WebUser
        ?? throw new InvalidOperationException("No signed-in user (the page must require authorization).");

    public int AccountId => CurrentUser.AccountId;
    public bool IsAdmin => CurrentUser.Role is WebRole.Owner or WebRole.Admin;

    /// <summary>Server ids this user sees: null means every server of the account.</summary>
    protected IReadOnlyList<int>? VisibleServerIds => IsAdmin ? null : CurrentUser.Servers.Select(s => s.ServerId).ToList();

    /// <summary>The 404 page (not the API's JSON): the same answer for "not yours" and "not there".</summary>
    protected IActionResult NotFoundPage()
    {
        return new ContentResult
        {
            StatusCode = 404,
            ContentType = "text/html; charset=utf-8",
            Content = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found · Mailroom</title>" +
                      "<link rel=\"stylesheet\" href=\"/app/static/app.css\"></head><body><main id=\"main\"><h1>Not found</h1>" +
                      "<p>There is nothing here, or it is not yours to see.</p><p><a href=\"/app/servers\">Back to servers</a></p></main></body></html>",
        };
    }

    /// <summary>Runs a change, then back to <paramref name="back"/> (POST-redirect-GET) with the outcome shown once.</summary>
    protected async Task<IActionResult> ChangeAsync(Func<Task<string>> change, string back)
    {
        try
        {
            Flash = await change();
        }
        catch (MailroomException e)
        {
            FlashError = e.Message;
        }
        return LocalRedirect(back);
    }

    protected string ClientIp => HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    protected int UserId => int.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!, System.Globalization.CultureInfo.InvariantCulture);
}
