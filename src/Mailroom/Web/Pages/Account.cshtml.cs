using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages;

public sealed class AccountModel(WebUserService users, UserInvitations invitations, TwoFactorService twoFactor, SignInThrottle throttle) : WebPageModel
{
    public List<WebUser> Users { get; private set; } = [];
    /// <summary>The account's servers (id, name), for the invitation form and the members' grants.</summary>
    public List<(int Id, string Name)> Servers { get; private set; } = [];

    public string ServerName(int id) => Servers.FirstOrDefault(s => s.Id == id).Name ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);
    public TotpSetup? Setup { get; private set; }
    /// <summary>Set only in the answer to the confirming POST: the recovery codes are shown that once.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public async Task OnGetAsync()
    {
        Setup = twoFactor.PendingSetup(CurrentUser);
        if (IsAdmin)
        {
            Users = await users.ListAsync(AccountId, HttpContext.RequestAborted);
            Servers = (await Db.Servers.AsNoTracking().Where(s => s.AccountId == AccountId).OrderBy(s => s.Name)
                .Select(s => new { s.Id, s.Name }).ToListAsync(HttpContext.RequestAborted)).Select(s => (s.Id, s.Name)).ToList();
        }
    }

    /// <summary>Invites a user: members get the ticked servers, read-only unless "may change" is ticked too.</summary>
    public Task<IActionResult> OnPostInviteAsync(string? email, string? role, int[]? servers, int[]? write) =>
        ChangeAsync(async () =>
        {
            var parsed = role?.Trim().ToLowerInvariant() switch
            {
                "owner" => WebRole.Owner,
                "admin" => WebRole.Admin,
                "member" or null or "" => WebRole.Member,
                _ => throw new Mailroom.Core.MailroomException(Mailroom.Core.PostmarkErrors.WebFormRefused, "Choose a role: owner, admin or member."),
            };
            var writable = (write ?? []).ToHashSet();
            var grants = parsed == WebRole.Member
                ? (servers ?? []).Distinct().Select(id => (id, writable.Contains(id))).ToList()
                : [];
            var sent = await invitations.InviteAsync(CurrentUser, email ?? "", parsed, grants, HttpContext.RequestAborted);
            return $"Invitation sent to {sent.Email}; its link works until {sent.ExpiresAt:yyyy-MM-dd HH:mm} UTC.";
        }, "/app/account");

    public Task<IActionResult> OnPostResendAsync(int userId) =>
        ChangeAsync(async () =>
        {
            var sent = await invitations.ResendAsync(CurrentUser, userId, HttpContext.RequestAborted);
            return $"Invitation sent again to {sent.Email}; the earlier link no longer works.";
        }, "/app/account");

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
