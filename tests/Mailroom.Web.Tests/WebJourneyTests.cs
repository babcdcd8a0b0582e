using System.Net;
using System.Text.RegularExpressions;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace Mailroom.Web.Tests;

/// <summary>The web app's main journeys in a real browser against a real <c>mailroom serve</c>; axe-core on every page.</summary>
public sealed class WebJourneyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task FirstSignInFromTheCliLinkThenTheLinkIsSpentAndSignOutEverywhereEndsOtherSessions()
    {
        var (account, _) = await app.NewAccountAsync();
        var email = app.Unique("first") + "@people.test";
        var link = await app.CreateUserAsync(account.AccountID, email, "owner");
        var page = await app.NewPageAsync();
        await page.GotoAsync(new Uri(link).PathAndQuery);
        await Expect(page.GetByText(email)).ToBeVisibleAsync();
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("New password").FillAsync(WebAppFixture.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/servers");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers" })).ToBeVisibleAsync();

        // The link is spent.
        var again = await app.NewPageAsync();
        await again.GotoAsync(new Uri(link).PathAndQuery);
        await Expect(again.GetByText("This link is invalid, used or expired")).ToBeVisibleAsync();

        // The session cookie: HttpOnly, SameSite, only for /app (never sent to the API).
        var cookie = (await page.Context.CookiesAsync()).Single(c => c.Name == "mailroom.session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
        Assert.Equal("/app", cookie.Path);

        // A second device with the same session, then "sign out everywhere" from the first.
        var other = await app.Browser.NewContextAsync(new() { BaseURL = app.Server.BaseUrl, StorageState = await page.Context.StorageStateAsync() });
        var otherPage = await other.NewPageAsync();
        await otherPage.GotoAsync("/app/servers");
        Assert.EndsWith("/app/servers", otherPage.Url);
        await page.GotoAsync("/app/account");
        await app.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out everywhere" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/sign-in");
        await otherPage.GotoAsync("/app/servers");
        Assert.Contains("/app/sign-in", otherPage.Url);

        // Signing in again with the password works.
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(WebAppFixture.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/servers");
    }

    [Fact]
    public async Task SignInIsThrottledAfterRepeatedWrongPasswordsEvenWithTheRightOne()
    {
        var (account, _) = await app.NewAccountAsync();
        var page = await app.SignInNewUserAsync(account.AccountID, "admin");
        var email = (await page.Context.StorageStateAsync()).Length > 0 ? await EmailOfAsync(page) : "";
        var fresh = await app.NewPageAsync();
        await fresh.GotoAsync("/app/sign-in");
        await app.AssertAccessibleAsync(fresh);
        for (var i = 0; i < 5; i++)
        {
            await fresh.GetByLabel("Email").FillAsync(email);
            await fresh.GetByLabel("Password").FillAsync("wrong password " + i);
            await fresh.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await Expect(fresh.GetByText("The email or password is wrong.")).ToBeVisibleAsync();
        }
        await fresh.GetByLabel("Email").FillAsync(email);
        await fresh.GetByLabel("Password").FillAsync(WebAppFixture.Password);
        await fresh.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(fresh.GetByText("Too many failed sign-ins")).ToBeVisibleAsync();
        Assert.Contains("/app/sign-in", fresh.Url);
    }

    [Fact]
    public async Task CreateAServerThenPauseItsStreamWithAReasonAndRevealAndRotateItsToken()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Storefront");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create server" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Storefront" })).ToBeVisibleAsync();
        var serverId = int.Parse(Regex.Match(page.Url, @"/app/servers/(\d+)").Groups[1].Value);
        await app.AssertAccessibleAsync(page);

        // The token is not in the page until revealed, and is the server's API token.
        var token = (await accountApi.GetFromJsonAsync<Mailroom.Contracts.ServerResponse>($"/servers/{serverId}"))!.ApiTokens[0];
        Assert.DoesNotContain(token, await page.ContentAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Reveal tokens" }).ClickAsync();
        await Expect(page.Locator("code.token")).ToHaveTextAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate token" }).ClickAsync();
        await Expect(page.GetByText("A new token replaced the old one")).ToBeVisibleAsync();
        using (var old = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) })
        {
            old.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
            Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("/server")).StatusCode);
        }

        // An SMTP token: its secret shown once, in the answer to the POST; afterwards only its access key.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create SMTP token" }).ClickAsync();
        var secret = (await page.Locator("code.smtp-secret").InnerTextAsync()).Trim();
        Assert.False(string.IsNullOrEmpty(secret));
        await page.GotoAsync($"/app/servers/{serverId}");
        Assert.DoesNotContain(secret, await page.ContentAsync());
        await Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Delete SMTP token") })).ToHaveCountAsync(1);

        // Pause the outbound stream with a reason; the page shows it; resume.
        await page.GetByLabel("Reason").First.FillAsync("Investigating a complaint spike");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).First.ClickAsync();
        await Expect(page.Locator(".pause-reason").First).ToHaveTextAsync("Investigating a complaint spike");
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "server");
        var streams = await accountApi.GetAsync($"/servers/{serverId}");
        Assert.True(streams.IsSuccessStatusCode);
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(page.Locator(".pause-reason")).ToHaveCountAsync(0);

        await page.GotoAsync("/app/servers");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Storefront" })).ToBeVisibleAsync();
        await WebAppFixture.ScreenshotAsync(page, "servers");
    }

    [Fact]
    public async Task AddADomainPublishItsRecordsAndCheckNowShowsThemVerified()
    {
        var (account, _) = await app.NewAccountAsync();
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        var domain = app.Unique("shop") + ".example";
        await page.GotoAsync("/app/domains");
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("Domain", new() { Exact = true }).FillAsync(domain);
        await page.GetByLabel("Return-Path domain").FillAsync("pm-bounces." + domain);
        await page.GetByRole(AriaRole.Button, new() { Name = "Add domain" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = domain })).ToBeVisibleAsync();
        await Expect(page.Locator("tr.record-dkim .status")).ToHaveTextAsync("Not found");
        await app.AssertAccessibleAsync(page);

        // Publish exactly what the page shows, in the loopback DNS server.
        var dkimHost = (await page.Locator("tr.record-dkim td:nth-child(3) code").InnerTextAsync()).Trim();
        var dkimValue = (await page.Locator("tr.record-dkim td:nth-child(4) code").InnerTextAsync()).Trim();
        var rpHost = (await page.Locator("tr.record-return-path td:nth-child(3) code").InnerTextAsync()).Trim();
        var rpValue = (await page.Locator("tr.record-return-path td:nth-child(4) code").InnerTextAsync()).Trim();
        Assert.EndsWith(domain, dkimHost);
        Assert.Contains("p=", dkimValue);
        app.Dns.AddTxt(dkimHost, dkimValue);
        app.Dns.AddCname(rpHost, rpValue);

        await page.GetByRole(AriaRole.Button, new() { Name = "Check now" }).ClickAsync();
        await Expect(page.GetByText("All required records are verified.")).ToBeVisibleAsync();
        await Expect(page.Locator("tr.record-dkim .status")).ToHaveTextAsync("Verified");
        await Expect(page.Locator("tr.record-return-path .status")).ToHaveTextAsync("Verified");
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "domain");
    }

    [Fact]
    public async Task AddASenderSignatureAndConfirmItThroughTheEmailedLink()
    {
        var (account, _) = await app.NewAccountAsync();
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        var address = app.Unique("news") + "@brand.example";
        await page.GotoAsync("/app/signatures");
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("From email").FillAsync(address);
        await page.GetByLabel("From name").FillAsync("Brand News");
        await page.GetByLabel("Personal note").FillAsync("Hi Sam, please confirm this for our newsletter.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add signature" }).ClickAsync();
        await Expect(page.Locator("tr.signature", new() { HasText = address }).Locator(".status")).ToHaveTextAsync("Awaiting confirmation");

        // The confirmation email, caught by the loopback sink.
        SinkMessage? mail = null;
        await Eventually.True(() => Task.FromResult((mail = app.Sink.Messages.FirstOrDefault(m => m.Recipients.Contains(address))) is not null),
            timeoutSeconds: 60, because: "the confirmation email reaches the sink\n" + app.Server.Output);
        var message = MimeMessage.Load(new MemoryStream(mail!.Data));
        var body = (message.TextBody ?? "") + (message.HtmlBody ?? "");
        Assert.Contains("Hi Sam, please confirm this for our newsletter.", body);
        var link = Regex.Match(body, @"https?://[^\s""'<>]+/senders/confirm/[A-Za-z0-9_\-]+").Value;
        Assert.False(string.IsNullOrEmpty(link), "no confirmation link in:\n" + body);

        await page.GotoAsync(new Uri(link).PathAndQuery);
        await page.GotoAsync("/app/signatures");
        await Expect(page.Locator("tr.signature", new() { HasText = address }).Locator(".status")).ToHaveTextAsync("Confirmed");
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "signatures");
    }

    [Fact]
    public async Task AMessageSentThroughTheApiShowsInActivityWithItsDeliveredEventAndSandboxedHtml()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Receipts");
        using var api = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
        var subject = "Your receipt " + app.Unique("r");
        var sent = await api.PostAsJsonAsync("/email", new
        {
            From = "shop@mailroom.test", To = "buyer@customer.example", Subject = subject, TextBody = "Thanks for your order.",
            HtmlBody = "<p>Thanks for your <b>order</b>.</p><script>document.title='pwned'</script>", Tag = "receipt",
        });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        await Eventually.True(() => Task.FromResult(app.Sink.Messages.Any(m => m.Recipients.Contains("buyer@customer.example"))), 60,
            "delivered to the sink\n" + app.Server.Output);

        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync($"/app/servers/{serverId}/activity");
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("Subject").FillAsync(subject);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await WebAppFixture.ScreenshotAsync(page, "activity");
        await page.GetByRole(AriaRole.Link, new() { Name = subject }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = subject })).ToBeVisibleAsync();
        // The Delivered event may be recorded a moment after the sink has the message.
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("table.timeline td", new() { HasText = "Delivered" }).CountAsync() > 0;
        }, 30, "a Delivered event on the message page");
        await Expect(page.Locator("pre.text-body")).ToContainTextAsync("Thanks for your order.");
        await Expect(page.Locator("pre.headers")).ToContainTextAsync("Subject: " + subject);

        // The HTML: in a sandboxed iframe, served from its own path with a sandbox CSP, its script never run.
        var frame = page.Locator("iframe.message-html");
        Assert.Equal("", await frame.GetAttributeAsync("sandbox"));
        var src = await frame.GetAttributeAsync("src");
        await Expect(page.FrameLocator("iframe.message-html").Locator("b")).ToHaveTextAsync("order");
        var html = await page.Context.APIRequest.GetAsync(src!);
        Assert.StartsWith("sandbox", html.Headers["content-security-policy"]);
        Assert.DoesNotContain("pwned", await page.TitleAsync());
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "message");

        // The app's own headers.
        var own = await page.Context.APIRequest.GetAsync($"/app/servers/{serverId}");
        Assert.Contains("frame-ancestors 'none'", own.Headers["content-security-policy"]);
        Assert.DoesNotContain("unsafe-inline", own.Headers["content-security-policy"].Split("style-src")[0]);
        Assert.Equal("DENY", own.Headers["x-frame-options"]);
        Assert.Equal("same-origin", own.Headers["referrer-policy"]);
    }

    [Fact]
    public async Task RemoveASuppressionAndExportTheListAsCsv()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Newsletter");
        using var api = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
        var added = await api.PostAsJsonAsync("/message-streams/outbound/suppressions",
            new { Suppressions = new[] { new { EmailAddress = "unhappy@reader.example" }, new { EmailAddress = "keep@reader.example" } } });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());

        var page = await app.SignInNewUserAsync(account.AccountID, "admin");
        await page.GotoAsync($"/app/servers/{serverId}/suppressions");
        await Expect(page.Locator("tr.suppression")).ToHaveCountAsync(2);
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "suppressions");

        var csv = await page.Context.APIRequest.GetAsync($"/app/servers/{serverId}/suppressions/export?stream=outbound");
        Assert.Equal(200, csv.Status);
        var text = await csv.TextAsync();
        Assert.StartsWith("EmailAddress,SuppressionReason,Origin,CreatedAt", text);
        Assert.Contains("unhappy@reader.example,ManualSuppression,Customer,", text);

        await page.GetByRole(AriaRole.Button, new() { Name = "Remove unhappy@reader.example" }).ClickAsync();
        await Expect(page.Locator("tr.suppression")).ToHaveCountAsync(1);
        await Expect(page.Locator("tr.suppression")).ToContainTextAsync("keep@reader.example");
        var dump = await api.GetStringAsync("/message-streams/outbound/suppressions/dump");
        Assert.DoesNotContain("unhappy@reader.example", dump);
    }

    [Fact]
    public async Task AMemberWithoutAccessToAServerOrAnotherTenantGetsNotFoundByUrl()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (allowed, _) = await WebAppFixture.NewServerAsync(accountApi, "Allowed");
        var (forbidden, _) = await WebAppFixture.NewServerAsync(accountApi, "Forbidden");
        var (_, otherApi) = await app.NewAccountAsync();
        var (otherTenant, _) = await WebAppFixture.NewServerAsync(otherApi, "Someone else's");

        var member = await app.SignInNewUserAsync(account.AccountID, "member", "--server", allowed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(member.GetByRole(AriaRole.Link, new() { Name = "Allowed" })).ToBeVisibleAsync();
        await Expect(member.GetByRole(AriaRole.Link, new() { Name = "Forbidden" })).ToHaveCountAsync(0);
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Create server" })).ToHaveCountAsync(0);

        var ok = await member.GotoAsync($"/app/servers/{allowed}");
        Assert.Equal(200, ok!.Status);
        // Read-only: no pause, no reveal.
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Pause" })).ToHaveCountAsync(0);
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Reveal tokens" })).ToHaveCountAsync(0);
        foreach (var path in new[] { $"/app/servers/{forbidden}", $"/app/servers/{forbidden}/activity", $"/app/servers/{forbidden}/suppressions",
                     $"/app/servers/{otherTenant}", $"/app/servers/{otherTenant}/bounces", "/app/domains", "/app/signatures" })
        {
            var response = await member.GotoAsync(path);
            Assert.True(response!.Status == 404, $"{path}: {response.Status}");
            await Expect(member.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        }
        await app.AssertAccessibleAsync(member);

        // The owner of the account sees both of its servers, and still not the other tenant's.
        var owner = await app.SignInNewUserAsync(account.AccountID, "owner");
        Assert.Equal(200, (await owner.GotoAsync($"/app/servers/{forbidden}"))!.Status);
        Assert.Equal(404, (await owner.GotoAsync($"/app/servers/{otherTenant}"))!.Status);
        Assert.Equal(404, (await owner.GotoAsync($"/app/servers/{otherTenant}/activity"))!.Status);
    }

    [Fact]
    public async Task AnAdminInvitesAMemberByEmailWhoSetsAPasswordAndSeesOnlyTheGrantedServer()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        await WebAppFixture.NewServerAsync(accountApi, "Shop");
        await WebAppFixture.NewServerAsync(accountApi, "Blog");
        var admin = await app.SignInNewUserAsync(account.AccountID, "admin");
        await admin.GotoAsync("/app/account");
        await app.AssertAccessibleAsync(admin);
        // An admin may not make owners: the form does not offer it.
        await Expect(admin.GetByLabel("Owner: as admin, and may make owners")).ToHaveCountAsync(0);

        var invited = app.Unique("invited") + "@people.test";
        await admin.GetByLabel("Email", new() { Exact = true }).FillAsync(invited);
        await admin.GetByLabel("Member: only the servers ticked below").CheckAsync();
        await admin.GetByLabel("Shop", new() { Exact = true }).CheckAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Send the invitation" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Status).Filter(new() { HasText = "Invitation sent to " + invited })).ToBeVisibleAsync();
        var row = admin.Locator("#users tr", new() { HasText = invited });
        await Expect(row).ToContainTextAsync("Shop (read-only)");
        await Expect(row).ToContainTextAsync("no");
        await app.AssertAccessibleAsync(admin);

        // The invitation, caught by the loopback sink, carries the one-time link.
        SinkMessage? mail = null;
        await Eventually.True(() => Task.FromResult((mail = app.Sink.Messages.FirstOrDefault(m => m.Recipients.Contains(invited))) is not null),
            timeoutSeconds: 60, because: "the invitation reaches the sink\n" + app.Server.Output);
        var message = MimeMessage.Load(new MemoryStream(mail!.Data));
        Assert.Contains("invited you to the account", message.TextBody);
        var link = Regex.Match(message.TextBody ?? "", @"https?://\S+/app/set-password\?token=[A-Za-z0-9_\-]+").Value;
        Assert.False(string.IsNullOrEmpty(link), "no set-password link in:\n" + message.TextBody);

        var member = await app.NewPageAsync();
        await member.GotoAsync(new Uri(link).PathAndQuery);
        await member.GetByLabel("New password").FillAsync(WebAppFixture.Password);
        await member.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await WebAppFixture.AtAsync(member, "/app/servers");
        await Expect(member.GetByRole(AriaRole.Link, new() { Name = "Shop" })).ToBeVisibleAsync();
        await Expect(member.GetByRole(AriaRole.Link, new() { Name = "Blog" })).ToHaveCountAsync(0);

        await admin.GotoAsync("/app/account");
        await Expect(admin.Locator("#users tr", new() { HasText = invited })).ToContainTextAsync("yes");
    }

    private static async Task<string> EmailOfAsync(IPage page)
    {
        await page.GotoAsync("/app/account");
        return (await page.Locator("dl.facts dd").First.InnerTextAsync()).Trim();
    }
}
