using Mailroom.Core.Storage;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>
/// Base of the customer view's pages (<c>/app/share/{token}/…</c>): no sign-in, the link's token is the credential and
/// names the one server the pages may show. A forged or unknown token answers 404, an expired or revoked one 410; a
/// message of any other server answers 404 like one that does not exist.
/// </summary>
public abstract class ShareViewPage : PageModel
{
    [BindProperty(SupportsGet = true)] public string Token { get; set; } = "";
    public ServerShareLink Link { get; private set; } = null!;
    public Server Server { get; private set; } = null!;
    public string Base => ShareLinkService.PathPrefix + Token;

    protected MailroomDb Db => HttpContext.RequestServices.GetRequiredService<MailroomDb>();

    /// <summary>Null when the link opens (Link and Server set), else the answer to give.</summary>
    protected async Task<IActionResult?> OpenAsync()
    {
        // The token is in the URL: never in a Referer to anywhere, never indexed.
        Response.Headers["Referrer-Policy"] = "no-referrer";
        Response.Headers["X-Robots-Tag"] = "noindex, nofollow";
        var check = await HttpContext.RequestServices.GetRequiredService<ShareLinkService>().OpenAsync(Token, HttpContext.RequestAborted);
        if (check.State == ShareLinkState.Gone)
            return Refusal(410, "This link has expired or was revoked", "Ask whoever shared it with you for a new one.");
        if (check.Link is not { } link
            || await Db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == link.ServerId && s.AccountId == link.AccountId, HttpContext.RequestAborted) is not { } server)
            return NotFoundPage();
        Link = link;
        Server = server;
        return null;
    }

    protected static IActionResult NotFoundPage() => Refusal(404, "Not found", "There is nothing here, or it is not yours to see.");

    private static ContentResult Refusal(int status, string title, string text) => new()
    {
        StatusCode = status,
        ContentType = "text/html; charset=utf-8",
        Content = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title + " · Mailroom</title>" +
                  "<link rel=\"stylesheet\" href=\"/app/static/app.css\"></head><body><main id=\"main\"><h1>" + title + "</h1>" +
                  "<p>" + text + "</p></main></body></html>",
    };
}
