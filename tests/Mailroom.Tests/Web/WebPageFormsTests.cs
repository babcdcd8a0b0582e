using Mailroom.Contracts;
using Mailroom.Core;
using Mailroom.Core.Accounts;
using Mailroom.Web;

namespace Mailroom.Tests.Web;

/// <summary>The pieces of the webhooks and template pages that stand alone: the webhook form's mapping onto the
/// Webhooks API's request, and the template preview store's scoping.</summary>
public sealed class WebPageFormsTests
{
    /// <summary>The preview store is rows of the shared database: a draft rendered by one node is found by another (each
    /// scope here has its own DbContext, as two nodes would), only by the user and server that made it, until it
    /// expires; a user keeps at most <see cref="TemplatePreviews.PerUser"/> drafts.</summary>
    [Fact]
    public async Task TemplatePreviewIsSharedByNodesButOnlyForTheUserAndServerThatMadeIt()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        var other = await host.CreateTenantAsync("Other");
        var (alice, bob) = await host.ScopedAsync(async sp =>
        {
            var users = sp.GetRequiredService<WebUserService>();
            var a = await users.CreateAsync(tenant.Account.AccountID, "alice@acme.test", WebRole.Owner, []);
            var b = await users.CreateAsync(tenant.Account.AccountID, "bob@acme.test", WebRole.Owner, []);
            return (a.UserId, b.UserId);
        });
        var serverId = tenant.Server.ID;

        var key = await host.ScopedAsync(sp => sp.GetRequiredService<TemplatePreviews>().AddAsync(alice, serverId, "<p>draft</p>"));
        await host.ScopedAsync(async sp =>
        {
            var previews = sp.GetRequiredService<TemplatePreviews>(); // another scope, another DbContext: another node
            Assert.Equal("<p>draft</p>", await previews.FindAsync(key, alice, serverId));
            Assert.Null(await previews.FindAsync(key, bob, serverId)); // another user
            Assert.Null(await previews.FindAsync(key, alice, other.Server.ID)); // another server
            Assert.Null(await previews.FindAsync("0123456789abcdef0123456789abcdef", alice, serverId));
            Assert.Null(await previews.FindAsync(null, alice, serverId));
            Assert.Null(await previews.FindAsync(key[..^1], alice, serverId));
            Assert.NotEqual(key, await previews.AddAsync(alice, serverId, "<p>draft</p>")); // a new key each time
            var stored = await sp.GetRequiredService<MailroomDb>().TemplatePreviews.AsNoTracking().Select(p => p.KeyHash).ToListAsync();
            Assert.Contains(Mailroom.Core.Secrets.Hash(key), stored);
            Assert.DoesNotContain(key, stored); // only the key's hash is kept
            return 0;
        });

        host.Clock.Advance(TemplatePreviews.Lifetime - TimeSpan.FromSeconds(1));
        Assert.NotNull(await host.ScopedAsync(sp => sp.GetRequiredService<TemplatePreviews>().FindAsync(key, alice, serverId)));
        host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await host.ScopedAsync(sp => sp.GetRequiredService<TemplatePreviews>().FindAsync(key, alice, serverId)));

        // Expired rows go at the next write; a user's drafts beyond the newest PerUser go too, another user's stay.
        var bobs = await host.ScopedAsync(sp => sp.GetRequiredService<TemplatePreviews>().AddAsync(bob, serverId, "<p>bob</p>"));
        for (var i = 0; i < TemplatePreviews.PerUser + 5; i++)
            await host.ScopedAsync(sp => sp.GetRequiredService<TemplatePreviews>().AddAsync(alice, serverId, $"<p>{i}</p>"));
        await host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            Assert.Equal(TemplatePreviews.PerUser, await db.TemplatePreviews.CountAsync(p => p.WebUserId == alice));
            Assert.Equal(1, await db.TemplatePreviews.CountAsync(p => p.WebUserId == bob));
            Assert.Equal("<p>bob</p>", await sp.GetRequiredService<TemplatePreviews>().FindAsync(bobs, bob, serverId));
            return 0;
        });
    }

    [Fact]
    public void WebhookFormKeepsTheStoredPasswordWhenLeftBlankAndRemovesAuthWithoutAUserName()
    {
        var current = new WebhookResponse { ID = 1, Url = "https://hooks.example/x", HttpAuth = new WebhookHttpAuth("ops", "s3cret") };
        var form = WebhookForm.From(current);
        Assert.Null(form.AuthPassword); // never sent back to the browser
        var kept = form.ToRequest(current);
        Assert.Equal(new WebhookHttpAuth("ops", "s3cret"), kept.HttpAuth);
        Assert.Null(kept.MessageStream); // a webhook's stream cannot change: not sent on edit

        form.AuthPassword = "new";
        Assert.Equal(new WebhookHttpAuth("ops", "new"), form.ToRequest(current).HttpAuth);

        form.AuthUsername = " ";
        Assert.Equal(new WebhookHttpAuth("", ""), form.ToRequest(current).HttpAuth); // blank user: authentication removed
    }

    [Fact]
    public void WebhookFormSendsEveryTriggerAndItsOptionsAndParsesHeaderLines()
    {
        var form = new WebhookForm
        {
            Url = "https://hooks.example/x", Stream = "broadcast", Open = true, OpenFirstOnly = true, Bounce = true, BounceContent = true,
            Headers = "X-Team: ops\r\n\r\nX-Env:  prod : eu \n",
        };
        var r = form.ToRequest(null);
        Assert.Equal("broadcast", r.MessageStream);
        Assert.Equal(new TriggerRequest(true, PostFirstOpenOnly: true), r.Triggers!.Open);
        Assert.Equal(new TriggerRequest(true, IncludeContent: true), r.Triggers.Bounce);
        Assert.Equal(new TriggerRequest(false, IncludeContent: false), r.Triggers.SpamComplaint);
        Assert.Equal(new TriggerRequest(false), r.Triggers.Delivery);
        Assert.Equal(new TriggerRequest(false), r.Triggers.Click);
        Assert.Equal(new TriggerRequest(false), r.Triggers.SubscriptionChange);
        Assert.Equal([new WebhookHeader("X-Team", "ops"), new WebhookHeader("X-Env", "prod : eu")], r.HttpHeaders!);
    }

    [Fact]
    public void WebhookFormRefusesAHeaderLineWithoutAName()
    {
        var e = Assert.Throws<MailroomException>(() => WebhookForm.ParseHeaders("X-Team ops"));
        Assert.Contains("'Name: Value'", e.Message);
        Assert.Throws<MailroomException>(() => WebhookForm.ParseHeaders(": value"));
    }
}
