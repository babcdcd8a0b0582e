using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Mailroom.Web.Pages;

/// <summary>The one-time link <c>mailroom users create</c> prints. The token stays out of Referer headers
/// (Referrer-Policy same-origin) and is spent on use.</summary>
[AllowAnonymous]
public sealed class SetPasswordModel(WebUserService users) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Token { get; set; }
    public string? Email { get; private set; }
    public string? Error { get; private set; }

    public async Task OnGetAsync() => Email = (await users.FindByLinkAsync(Token, HttpContext.RequestAborted))?.Email;

    public async Task<IActionResult> OnPostAsync(string? password)
    {
        var user = await users.FindByLinkAsync(Token, HttpContext.RequestAborted);
        Email = user?.Email;
        if (user is null)
            return Page();
        try
        {
            user = await users.SetPasswordAsync(Token!, password ?? "", HttpContext.RequestAborted);
        }
        catch (MailroomException e)
        {
            Error = e.Message;
            return Page();
        }
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebApp.Principal(user));
        return LocalRedirect("/app/servers");
    }
}
