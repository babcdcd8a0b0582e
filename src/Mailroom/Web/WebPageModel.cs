using System.Security.Claims;
using Mailroom.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>What the signed-in user may do with one server of its account.</summary>
public sealed record ServerAccess(Server Server, bool CanWrite);

/// <summary>
/// Base of every signed-in page: the user (checked against its security stamp by the cookie handler), its account,
/// and the one place that decides whether a server is visible. A server of another account, or one a member was not
/// given, is answered exactly like one that does not exist (404), so IDs in URLs reveal nothing.
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

    /// <summary>The server when this user may see it (and change it, when <paramref name="write"/>), else null → 404.</summary>
    protected async Task<ServerAccess?> ServerAsync(int serverId, bool write = false)
    {
        var server = await Db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == serverId && s.AccountId == AccountId, HttpContext.RequestAborted);
        if (server is null)
            return null;
        bool canWrite;
        if (IsAdmin)
            canWrite = true;
        else if (CurrentUser.Servers.FirstOrDefault(s => s.ServerId == serverId) is { } grant)
            canWrite = grant.CanWrite;
        else
            return null;
        return write && !canWrite ? null : new ServerAccess(server, canWrite);
    }

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
