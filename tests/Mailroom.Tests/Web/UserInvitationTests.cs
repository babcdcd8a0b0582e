using System.Text.RegularExpressions;
using Mailroom.Core;
using Mailroom.Core.Accounts;
using Mailroom.Web;
using MimeKit;

namespace Mailroom.Tests.Web;

/// <summary>Invitations from the web app: the user, its link and the email commit together; the emailed link sets the
/// password once; only owners make owners; an invitation goes again with a new link until a password is set; and an
/// inviter reaches only the users and servers of its own account.</summary>
public sealed class UserInvitationTests
{
    private static async Task<WebUser> UserAsync(MailroomHost host, int accountId, string email, WebRole role) =>
        await host.ScopedAsync(async sp =>
        {
            var created = await sp.GetRequiredService<WebUserService>().CreateAsync(accountId, email, role, []);
            return (await sp.GetRequiredService<WebUserService>().FindAsync(created.UserId))!;
        });

    private static Task<List<(string To, string Text)>> InvitationsAsync(MailroomHost host) =>
        host.ScopedAsync(async sp =>
        {
            var rows = await sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
                .Where(m => m.Tag == UserInvitations.Tag).OrderBy(m => m.ReceivedAt).ToListAsync();
            return rows.Select(m =>
            {
                using var message = MimeMessage.Load(new MemoryStream(m.Mime!));
                Assert.Null(m.ServerId); // platform mail, in no customer's server
                return (message.To.Mailboxes.Single().Address, message.TextBody ?? "");
            }).ToList();
        });

    private static string TokenIn(string text) =>
        Regex.Match(text, @"/app/set-password\?token=([A-Za-z0-9_\-]+)").Groups[1].Value is { Length: > 0 } token ? token
            : throw new Xunit.Sdk.XunitException("no set-password link in:\n" + text);

    [Fact]
    public async Task AnInvitationIsEmailedWithALinkThatSetsThePasswordOnce()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync("Shop");
        var admin = await UserAsync(host, tenant.Account.AccountID, "admin@acme.test", WebRole.Admin);

        var sent = await host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>()
            .InviteAsync(admin, " Sam@People.test ", WebRole.Member, [(tenant.Server.ID, false)]));
        var mail = Assert.Single(await InvitationsAsync(host));
        Assert.Equal("Sam@People.test", mail.To);
        Assert.Contains("admin@acme.test invited you to the account", mail.Text);
        Assert.Contains("as member", mail.Text);
        var token = TokenIn(mail.Text);
        Assert.EndsWith(token, sent.SetPasswordLink);

        await host.ScopedAsync(async sp =>
        {
            var users = sp.GetRequiredService<WebUserService>();
            var user = await users.SetPasswordAsync(token, "a long enough password");
            Assert.Equal(sent.UserId, user.Id);
            Assert.Equal(WebRole.Member, user.Role);
            var grant = Assert.Single((await users.FindAsync(user.Id))!.Servers);
            Assert.Equal((tenant.Server.ID, false), (grant.ServerId, grant.CanWrite));
            await Assert.ThrowsAsync<MailroomException>(() => users.SetPasswordAsync(token, "another long password")); // spent
            return 0;
        });
    }

    [Fact]
    public async Task RefusedInvitationsLeaveNoUserAndNoEmail()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        var other = await host.CreateTenantAsync("Theirs");
        var admin = await UserAsync(host, tenant.Account.AccountID, "admin@acme.test", WebRole.Admin);
        var member = await UserAsync(host, tenant.Account.AccountID, "member@acme.test", WebRole.Member);
        var cases = new (WebUser Inviter, string Email, WebRole Role, (int, bool)[] Servers, string Error)[]
        {
            (admin, "new-owner@acme.test", WebRole.Owner, [], "Only an owner makes another owner."),
            (member, "friend@acme.test", WebRole.Member, [(tenant.Server.ID, false)], "Only owners and admins invite users."),
            (admin, "nobody@acme.test", WebRole.Member, [], "Choose the servers a member may see."),
            (admin, "spy@acme.test", WebRole.Member, [(other.Server.ID, true)], $"Server {other.Server.ID} is not a server of account {tenant.Account.AccountID}."),
            (admin, "not an address", WebRole.Admin, [], "'not an address' is not a valid email address."),
            (admin, "x@acme.test\r\nBcc: victim@example.test", WebRole.Admin, [], "is not a valid email address."),
            (admin, "MEMBER@acme.test", WebRole.Admin, [], "A user with the email 'MEMBER@acme.test' already exists."),
        };
        foreach (var c in cases)
        {
            var e = await Assert.ThrowsAsync<MailroomException>(() =>
                host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().InviteAsync(c.Inviter, c.Email, c.Role, c.Servers)));
            Assert.Contains(c.Error, e.Message);
        }
        Assert.Empty(await InvitationsAsync(host));
        Assert.Equal(2, await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebUsers.CountAsync(u => u.AccountId == tenant.Account.AccountID)));
    }

    [Fact]
    public async Task SendingAgainVoidsTheEarlierLinkUntilAPasswordIsSetAndOnlyWithinTheAccount()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        var other = await host.CreateTenantAsync("Theirs");
        var owner = await UserAsync(host, tenant.Account.AccountID, "owner@acme.test", WebRole.Owner);
        var admin = await UserAsync(host, tenant.Account.AccountID, "admin@acme.test", WebRole.Admin);
        var stranger = await UserAsync(host, other.Account.AccountID, "owner@theirs.test", WebRole.Owner);

        var first = await host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().InviteAsync(owner, "co-owner@acme.test", WebRole.Owner, []));
        // An admin may not send an owner's invitation again, nor may another account's owner.
        await Assert.ThrowsAsync<MailroomException>(() => host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().ResendAsync(admin, first.UserId)));
        var foreign = await Assert.ThrowsAsync<MailroomException>(() => host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().ResendAsync(stranger, first.UserId)));
        Assert.Equal("User not found.", foreign.Message);

        host.Clock.Advance(TimeSpan.FromDays(2));
        await host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().ResendAsync(owner, first.UserId));
        var mails = await InvitationsAsync(host);
        Assert.Equal(2, mails.Count);
        Assert.All(mails, m => Assert.Equal("co-owner@acme.test", m.To));
        var (oldToken, newToken) = (TokenIn(mails[0].Text), TokenIn(mails[1].Text));
        Assert.NotEqual(oldToken, newToken);

        await host.ScopedAsync(async sp =>
        {
            var users = sp.GetRequiredService<WebUserService>();
            Assert.Null(await users.FindByLinkAsync(oldToken)); // the earlier link no longer works
            Assert.NotNull(await users.FindByLinkAsync(newToken));
            host.Clock.Advance(WebUserService.LinkLifetime - TimeSpan.FromDays(1)); // 3 days after the first, 1 after the second
            await users.SetPasswordAsync(newToken, "a long enough password");
            return 0;
        });
        var done = await Assert.ThrowsAsync<MailroomException>(() => host.ScopedAsync(sp => sp.GetRequiredService<UserInvitations>().ResendAsync(owner, first.UserId)));
        Assert.Contains("has already set a password", done.Message);
    }
}
