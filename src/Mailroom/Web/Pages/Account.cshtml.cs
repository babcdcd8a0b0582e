using Mailroom.Core.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;

namespace Mailroom.Web.Pages;

public sealed class AccountModel(WebUserService users) : WebPageModel
{
    public List<WebUser> Users { get; private set; } = [];

    public async Task OnGetAsync()
    {
        if (IsAdmin)
            Users = await users.ListAsync(AccountId, HttpContext.RequestAborted);
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
