using Mailroom.Web;
using static Microsoft.Playwright.Assertions;

namespace Mailroom.Web.Tests;

/// <summary>The second factor and the agency's customer view in a real browser against a real <c>mailroom serve</c>.</summary>
public sealed class WebAuthJourneyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task TurnOnTwoFactorThenSignInNeedsThePasswordAndACode()
    {
        var (account, _) = await app.NewAccountAsync();
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync("/app/account");
        var email = (await page.Locator("dl.facts dd").First.InnerTextAsync()).Trim();
        await page.GetByRole(AriaRole.Button, new() { Name = "Set up two-factor sign-in" }).ClickAsync();
        var secret = (await page.Locator("code.totp-secret").InnerTextAsync()).Trim();
        await Expect(page.Locator("code.totp-uri")).ToContainTextAsync("otpauth://totp/Mailroom:");
        await Expect(page.Locator("img.totp-qr")).ToBeVisibleAsync();
        await app.AssertAccessibleAsync(page);
        var key = Base32.Decode(secret)!;
        var step = Totp.StepAt(DateTimeOffset.UtcNow);
        await page.GetByLabel("Authentication code").FillAsync(Totp.Code(key, step));
        await page.GetByRole(AriaRole.Button, new() { Name = "Turn on two-factor sign-in" }).ClickAsync();
        await Expect(page.Locator("ul.recovery-codes li")).ToHaveCountAsync(10);
        await app.AssertAccessibleAsync(page);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/sign-in");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(WebAppFixture.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // The password alone does not sign in: the code step.
        await Expect(page.GetByLabel("Authentication code")).ToBeVisibleAsync();
        await app.AssertAccessibleAsync(page);
        Assert.Equal(302, (await page.Context.APIRequest.GetAsync("/app/servers", new() { MaxRedirects = 0 })).Status);
        // The code that turned it on is spent; the next step's code is inside the ±1 step window.
        await page.GetByLabel("Authentication code").FillAsync(Totp.Code(key, step));
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Expect(page.GetByText("That code is not right")).ToBeVisibleAsync();
        await page.GetByLabel("Authentication code").FillAsync(Totp.Code(key, step + 1));
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/servers");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Servers" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AShareLinkOpensOneServersReadOnlyViewUntilRevoked()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (shared, sharedToken) = await WebAppFixture.NewServerAsync(accountApi, "Acme Storefront");
        var (hidden, hiddenToken) = await WebAppFixture.NewServerAsync(accountApi, "Internal");
        // The customer's own domain, published in the loopback DNS server and verified, so its mail is From it.
        var domain = app.Unique("acme") + ".example";
        var made = await accountApi.PostAsJsonAsync("/domains", new { Name = domain, ReturnPathDomain = "pm-bounces." + domain });
        Assert.True(made.IsSuccessStatusCode, await made.Content.ReadAsStringAsync());
        var details = (await made.Content.ReadFromJsonAsync<Mailroom.Contracts.DomainDetails>())!;
        app.Dns.AddTxt(details.DKIMHost.Length > 0 ? details.DKIMHost : details.DKIMPendingHost,
            details.DKIMTextValue.Length > 0 ? details.DKIMTextValue : details.DKIMPendingTextValue);
        app.Dns.AddCname(details.ReturnPathDomain, details.ReturnPathDomainCNAMEValue);
        Assert.True((await accountApi.PutAsync($"/domains/{details.ID}/verifyDkim", null)).IsSuccessStatusCode);
        Assert.True((await accountApi.PutAsync($"/domains/{details.ID}/verifyReturnPath", null)).IsSuccessStatusCode);
        var subject = "Order shipped " + app.Unique("s");
        var mine = await SendAsync(sharedToken, subject, "orders@" + domain);
        var theirs = await SendAsync(hiddenToken, "Internal report", "shop@mailroom.test");

        var owner = await app.SignInNewUserAsync(account.AccountID, "owner");
        await owner.GotoAsync($"/app/servers/{shared}/sharing");
        await app.AssertAccessibleAsync(owner);
        await owner.GetByLabel("For whom").FillAsync("Acme marketing");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create share link" }).ClickAsync();
        var url = (await owner.Locator("code.share-url").InnerTextAsync()).Trim();
        await Expect(owner.Locator("tr.share-link .state")).ToHaveTextAsync("Active");
        await app.AssertAccessibleAsync(owner);
        var path = new Uri(url).AbsolutePath;

        // A fresh browser, never signed in: the server's view, its message, nothing of the account.
        var customer = await app.NewPageAsync();
        Assert.Equal(200, (await customer.GotoAsync(path))!.Status);
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Acme Storefront" })).ToBeVisibleAsync();
        await Expect(customer.GetByRole(AriaRole.Link, new() { Name = subject })).ToBeVisibleAsync();
        await Expect(customer.GetByText("Internal report")).ToHaveCountAsync(0);
        await Expect(customer.GetByRole(AriaRole.Link, new() { Name = "Servers" })).ToHaveCountAsync(0);
        await Expect(customer.Locator("tr.domain", new() { HasText = domain })).ToContainTextAsync("Verified");
        await Expect(customer.Locator(".figure.sent")).ToHaveTextAsync("1");
        await app.AssertAccessibleAsync(customer);
        await WebAppFixture.ScreenshotAsync(customer, "customer-view");
        await customer.GetByRole(AriaRole.Link, new() { Name = subject }).ClickAsync();
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = subject })).ToBeVisibleAsync();
        await app.AssertAccessibleAsync(customer);

        // Another server's message or page by URL: not found, or the sign-in page.
        Assert.Equal(404, (await customer.GotoAsync($"{path}/messages/{theirs}"))!.Status);
        await Expect(customer.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await customer.GotoAsync($"/app/servers/{hidden}");
        Assert.Contains("/app/sign-in", customer.Url);
        await Expect(customer.GetByText("Internal")).ToHaveCountAsync(0);

        // Revoked: the link is refused at once.
        await owner.GetByRole(AriaRole.Button, new() { Name = "Revoke the link for Acme marketing" }).ClickAsync();
        await Expect(owner.Locator("tr.share-link .state")).ToHaveTextAsync("Revoked");
        Assert.Equal(410, (await customer.GotoAsync(path))!.Status);
        Assert.Equal(410, (await customer.GotoAsync($"{path}/messages/{mine}"))!.Status);
    }

    private async Task<Guid> SendAsync(string serverToken, string subject, string from)
    {
        using var api = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", serverToken);
        var sent = await api.PostAsJsonAsync("/email", new { From = from, To = "buyer@customer.example", Subject = subject, TextBody = "On its way." });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        return (await sent.Content.ReadFromJsonAsync<Mailroom.Contracts.SendResult>())!.MessageID!.Value;
    }
}
