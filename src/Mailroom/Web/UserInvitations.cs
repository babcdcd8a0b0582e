using System.Globalization;
using System.Net;
using System.Text;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Mailroom.Web;

/// <summary>
/// Owners and admins invite the people of their account from the web app: the user, its one-time set-password link
/// and the email that carries the link are committed in one transaction (the email then goes the way of all the
/// platform's own mail: Preparation signs it with the platform key, Delivery sends it). Only an owner makes owners;
/// an invitation is sent again, with a new link that voids the old one, as long as its user has set no password.
/// </summary>
public sealed class UserInvitations(MailroomDb db, WebUserService users, OutboundQueue queue, PlatformSettings platform, TimeProvider clock)
{
    public const string Tag = "user-invitation";

    public async Task<WebUserCreated> InviteAsync(WebUser inviter, string email, WebRole role, IReadOnlyList<(int ServerId, bool CanWrite)> servers,
        CancellationToken ct = default)
    {
        if (inviter.Role is not (WebRole.Owner or WebRole.Admin))
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Only owners and admins invite users.");
        if (role == WebRole.Owner && inviter.Role != WebRole.Owner)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Only an owner makes another owner.");
        if (role == WebRole.Member && servers.Count == 0)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Choose the servers a member may see.");
        var (user, token) = await users.AddAsync(inviter.AccountId, email, role, servers, ct);
        queue.AddTo(db, await ComposeAsync(inviter, users.Created(user, token), ct));
        await db.SaveChangesAsync(ct);
        queue.Committed();
        return users.Created(user, token);
    }

    /// <summary>Sends the invitation again with a new link, for a user of the inviter's account who has set no password yet.</summary>
    public async Task<WebUserCreated> ResendAsync(WebUser inviter, int userId, CancellationToken ct = default)
    {
        if (inviter.Role is not (WebRole.Owner or WebRole.Admin))
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Only owners and admins invite users.");
        var user = await db.WebUsers.FirstOrDefaultAsync(u => u.Id == userId && u.AccountId == inviter.AccountId, ct)
            ?? throw new MailroomException(PostmarkErrors.WebFormRefused, "User not found.");
        if (user.PasswordHash is not null)
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"{user.Email} has already set a password.");
        if (user.Role == WebRole.Owner && inviter.Role != WebRole.Owner)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Only an owner invites an owner.");
        var token = users.RenewLink(user);
        queue.AddTo(db, await ComposeAsync(inviter, users.Created(user, token), ct));
        await db.SaveChangesAsync(ct);
        queue.Committed();
        return users.Created(user, token);
    }

    private async Task<QueuedMessage> ComposeAsync(WebUser inviter, WebUserCreated invited, CancellationToken ct)
    {
        var accountName = await db.Accounts.Where(a => a.Id == inviter.AccountId).Select(a => a.Name).FirstAsync(ct);
        return InvitationEmail.Compose(inviter.Email, accountName, invited, platform, clock.GetUtcNow());
    }
}

/// <summary>The invitation: who invites, to which account, with which role, and the one-time link with its expiry.</summary>
public static class InvitationEmail
{
    public static QueuedMessage Compose(string inviterEmail, string accountName, WebUserCreated invited, PlatformSettings platform, DateTimeOffset now)
    {
        var from = new MailboxAddress("Mailroom", platform.PlatformDomain is { } d ? "invitations@" + d : "no-reply@" + platform.MailDomain);
        var to = new MailboxAddress("", invited.Email);
        var subject = $"You are invited to {accountName} on Mailroom";
        var expires = invited.ExpiresAt.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        var role = invited.Role.ToString().ToLowerInvariant();
        var text = new StringBuilder()
            .Append("Hello,\n\n")
            .Append(inviterEmail).Append(" invited you to the account ").Append(accountName).Append(" on Mailroom at ")
            .Append(platform.PublicUrl).Append(", as ").Append(role).Append(".\n\n")
            .Append("Choose your password by opening this link before ").Append(expires).Append(" (it works once):\n\n")
            .Append(invited.SetPasswordLink).Append("\n\n")
            .Append("If you did not expect this invitation, ignore it: the link expires and nothing else happens.\n")
            .ToString();
        var html = new StringBuilder()
            .Append("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">")
            .Append("<p>Hello,</p><p>").Append(Html(inviterEmail)).Append(" invited you to the account <b>").Append(Html(accountName))
            .Append("</b> on Mailroom at ").Append(Html(platform.PublicUrl)).Append(", as ").Append(Html(role)).Append(".</p>")
            .Append("<p>Choose your password before ").Append(expires).Append(" (the link works once):</p>")
            .Append("<p><a href=\"").Append(Html(invited.SetPasswordLink)).Append("\">Set your password</a></p>")
            .Append("<p style=\"color:#666\">If you did not expect this invitation, ignore it: the link expires and nothing else happens.</p>")
            .Append("</body></html>")
            .ToString();
        return PlatformEmail.Compose(platform, from, to, subject, UserInvitations.Tag, new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody(), now);
    }

    private static string Html(string s) => WebUtility.HtmlEncode(s);
}
