using Mailroom.Core.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages;

public sealed class AccountModel(WebUserService users, TwoFactorService twoFactor, SignInThrottle throttle) : WebPageModel
{
    public List<WebUser> Users { get; private set; } = [];
    public TotpSetup? Setup { get; private set; }
    /// <summary>Set only in the answer to the confirming POST: the recovery codes are shown that once.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public async Task OnGetAsync()
    {
        Setup = twoFactor.PendingSetup(CurrentUser);
        if (IsAdmin)
            Users = await users.ListAsync(AccountId, HttpContext.RequestAborted);
    }

    public Task<IActionResult> OnPostTotpBeginAsync() =>
        ChangeAsync(async () =>
        {
            await twoFactor.BeginAsync(UserId, HttpContext.RequestAborted);
            return "Add the key to your authenticator app, then confirm with a code.";
        }, "/app/account");

    public async Task<IActionResult> OnPostTotpConfirmAsync(string? code)
    {
        try
        {
            RecoveryCodes = await twoFactor.ConfirmAsync(UserId, code, HttpContext.RequestAborted);
        }
        catch (Mailroom.Core.MailroomException e)
        {
            FlashError = e.Message;
            return LocalRedirect("/app/account");
        }
        // Every other session of this user ends (they were opened with the password alone); this one goes on.
        await RenewSessionAsync();
        if (IsAdmin)
            Users = await users.ListAsync(AccountId, HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>Needs the password and a code, counted in the sign-in throttle: a stolen session cannot guess either.</summary>
    public async Task<IActionResult> OnPostTotpDisableAsync(string? password, string? code)
    {
        if (throttle.IsBlocked(CurrentUser.Email, ClientIp))
        {
            FlashError = "Too many failed attempts. Wait 15 minutes and try again.";
            return LocalRedirect("/app/account");
        }
        try
        {
            await twoFactor.DisableAsync(UserId, password, code, HttpContext.RequestAborted);
            Flash = "Two-factor sign-in is off.";
        }
        catch (Mailroom.Core.MailroomException e)
        {
            throttle.Failed(CurrentUser.Email, ClientIp);
            FlashError = e.Message;
        }
        return LocalRedirect("/app/account");
    }

    private async Task RenewSessionAsync()
    {
        await users.RotateStampAsync(UserId, HttpContext.RequestAborted);
        var user = await users.FindAsync(UserId, HttpContext.RequestAborted) ?? CurrentUser;
        HttpContext.Items[typeof(WebUser)] = user;
        await HttpContext.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, WebApp.Principal(user));
    }

    public async Task<IActionResult> OnPostSignOutAsync()
    {
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return LocalRedirect("/app/sign-in");
    }

    public async Task<IActionResult> OnPostSignOutEverywhereAsync()
    {
        await users.RotateStampAsync(UserId, HttpContext.RequestAborted);
        await HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return LocalRedirect("/app/sign-in");
    }
}
