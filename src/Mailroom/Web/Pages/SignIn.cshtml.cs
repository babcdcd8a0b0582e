using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Mailroom.Web.Pages;

[AllowAnonymous]
public sealed class SignInModel(WebUserService users, SignInThrottle throttle) : PageModel
{
    public string? Error { get; private set; }
    public string? Email { get; private set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? email, string? password)
    {
        Email = email;
        var ip = HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        email ??= "";
        if (throttle.IsBlocked(email, ip))
        {
            // Refused even with the right password: the throttle must not become a password oracle.
            Error = "Too many failed sign-ins. Wait 15 minutes and try again.";
            Response.StatusCode = 429;
            return Page();
        }
        var user = await users.CheckPasswordAsync(email, password ?? "", HttpContext.RequestAborted);
        if (user is null)
        {
            throttle.Failed(email, ip);
            Error = "The email or password is wrong.";
            return Page();
        }
        throttle.Succeeded(email);
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebApp.Principal(user));
        return LocalRedirect(ReturnUrl is { Length: > 0 } r && Url.IsLocalUrl(r) && r.StartsWith(WebApp.Prefix, StringComparison.Ordinal) ? r : "/app/servers");
    }
}
