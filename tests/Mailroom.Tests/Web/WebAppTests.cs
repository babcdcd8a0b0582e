using Mailroom.Core.Accounts;
using Mailroom.Web;
using Microsoft.Extensions.Time.Testing;

namespace Mailroom.Tests.Web;

/// <summary>The web app beside the API: the API's routes and token checks are untouched; sign-in pieces in isolation.</summary>
public sealed class WebAppTests
{
    [Fact]
    public async Task ApiRoutesStillAnswerWithPostmarkErrorsAndIgnoreTheWebSession()
    {
        await using var host = await MailroomHost.StartAsync();
        using var client = host.Client();
        // No token: the API's own 401, not a redirect to the sign-in page.
        var servers = await client.GetAsync("/servers");
        Assert.Equal(HttpStatusCode.Unauthorized, servers.StatusCode);
        Assert.Contains("ErrorCode", await servers.Content.ReadAsStringAsync());
        // A page needs a session: redirected to sign-in, with the app's headers.
        var page = await client.GetAsync("/app/servers"); // the in-process client does not follow redirects
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/app/sign-in", page.Headers.Location!.PathAndQuery);
        var signIn = await client.GetAsync("/app/sign-in");
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        Assert.Equal(WebApp.ContentSecurityPolicy, signIn.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("DENY", signIn.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("name=\"__af\"", await signIn.Content.ReadAsStringAsync()); // antiforgery token in the form
    }

    [Fact]
    public async Task APostWithoutTheAntiforgeryTokenIsRefused()
    {
        await using var host = await MailroomHost.StartAsync();
        using var client = host.Client();
        var response = await client.PostAsync("/app/sign-in", new FormUrlEncodedContent(new Dictionary<string, string> { ["email"] = "a@b.test", ["password"] = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SetPasswordLinkWorksOnceAndThePasswordIsHashed()
    {
        await using var host = await MailroomHost.StartAsync();
        var account = await host.CreateAccountAsync();
        using var scope = host.App.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<WebUserService>();
        var created = await users.CreateAsync(account.AccountID, "Owner@Acme.test", WebRole.Owner, []);
        var token = new Uri(created.SetPasswordLink).Query.Split("token=")[1];
        Assert.NotNull(await users.FindByLinkAsync(token));
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => users.SetPasswordAsync(token, "short"));
        var user = await users.SetPasswordAsync(token, "a long enough password");
        Assert.DoesNotContain("a long enough password", user.PasswordHash);
        Assert.Null(await users.FindByLinkAsync(token));
        Assert.NotNull(await users.CheckPasswordAsync("owner@acme.test", "a long enough password"));
        Assert.Null(await users.CheckPasswordAsync("owner@acme.test", "a wrong password here"));
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => users.CreateAsync(account.AccountID, "owner@acme.test", WebRole.Admin, []));
    }

    [Fact]
    public void SignInThrottleBlocksPerEmailAndPerAddressForItsWindow()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T00:00:00Z"));
        var throttle = new SignInThrottle(clock);
        for (var i = 0; i < SignInThrottle.PerEmail; i++)
            throttle.Failed("victim@acme.test", "10.0.0." + i);
        Assert.True(throttle.IsBlocked("VICTIM@acme.test", "10.0.0.99"));
        Assert.False(throttle.IsBlocked("other@acme.test", "10.0.0.99"));
        clock.Advance(SignInThrottle.Window);
        Assert.False(throttle.IsBlocked("victim@acme.test", "10.0.0.99"));

        for (var i = 0; i < SignInThrottle.PerAddress; i++)
            throttle.Failed($"user{i}@acme.test", "192.0.2.1");
        Assert.True(throttle.IsBlocked("fresh@acme.test", "192.0.2.1"));
        Assert.False(throttle.IsBlocked("fresh@acme.test", "192.0.2.2"));
    }
}
