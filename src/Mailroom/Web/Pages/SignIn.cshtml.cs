using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Mailroom.Web.Pages;

/// <summary>Sign-in: the password, then, for a user with a second factor, a code (TOTP or recovery) carried over by a
/// short-lived signed ticket. Both steps count failures in the same throttle.</summary>
[AllowAnonymous]
public sealed class SignInModel(WebUserService users, TwoFactorService twoFactor, SignInThrottle throttle) : PageModel
{
    private const string Throttled = "Too many failed sign-ins. Wait 15 minutes and try again.";
    public string? Error { get; private set; }
    public string? Email { get; private set; }
    /// <summary>Set once the password step passed for a user with a second factor: the page asks for the code.</summary>
    public string? Ticket { get; private set; }
    [BindProperty(SupportsGet = true)] public string? ReturnUrl { get; set; }

    private string Ip => HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public void OnGet() { }

    public async Task<IActionResult> OnPostAsync(string? email, string? password)
    {
        Email = email;
        email ??= "";
        if (throttle.IsBlocked(email, Ip))
        {
            // Refused even with the right password: the throttle must not become a password oracle.
            Error = Throttled;
            Response.StatusCode = 429;
            return Page();
        }
        var user = await users.CheckPasswordAsync(email, password ?? "", HttpContext.RequestAborted);
        if (user is null)
        {
            throttle.Failed(email, Ip);
            Error = "The email or password is wrong.";
            return Page();
        }
        if (TwoFactorService.IsEnabled(user))
        {
            // The password alone does not sign in; the throttle's count for this email stays until the code is right.
            Ticket = twoFactor.Ticket(user);
            return Page();
        }
        throttle.Succeeded(email);
        return await SignInAsync(user);
    }

    public async Task<IActionResult> OnPostCodeAsync(string? ticket, string? code)
    {
        var user = await twoFactor.ReadTicketAsync(ticket, HttpContext.RequestAborted);
        if (user is null)
        {
            Error = "The sign-in took too long or was changed. Sign in again.";
            return Page();
        }
        if (throttle.IsBlocked(user.Email, Ip))
        {
            Error = Throttled;
            Response.StatusCode = 429;
            return Page();
        }
        if (!await twoFactor.VerifyAsync(user.Id, code, HttpContext.RequestAborted))
        {
            throttle.Failed(user.Email, Ip);
            Error = "That code is not right (a code works once; wait for the next one).";
            Ticket = ticket;
            return Page();
        }
        throttle.Succeeded(user.Email);
        return await SignInAsync(user);
    }

    private async Task<IActionResult> SignInAsync(WebUser user)
    {
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebApp.Principal(user));
        return LocalRedirect(ReturnUrl is { Length: > 0 } r && Url.IsLocalUrl(r) && r.StartsWith(WebApp.Prefix, StringComparison.Ordinal) ? r : "/app/servers");
    }
}
