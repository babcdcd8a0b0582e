using Mailroom.Web;

namespace Mailroom.Tests.Web;

/// <summary>Share links of the customer view: sealed tokens stored hashed; tampering, expiry and revocation refuse them;
/// the view shows its one server only.</summary>
public sealed class ShareLinkTests
{
    [Fact]
    public async Task ALinkOpensUntilItExpiresAndIsStoredOnlyAsAHash()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var links = scope.ServiceProvider.GetRequiredService<ShareLinkService>();
        var (created, token) = await CreateAsync(links, tenant, TimeSpan.FromDays(7));

        var open = await links.OpenAsync(token);
        Assert.Equal(ShareLinkState.Valid, open.State);
        Assert.Equal(tenant.Server.ID, open.Link!.ServerId);
        var row = await scope.ServiceProvider.GetRequiredService<MailroomDb>().ServerShareLinks.AsNoTracking().SingleAsync(l => l.Id == created.Link.Id);
        Assert.Equal(Mailroom.Core.Secrets.Hash(token), row.TokenHash);
        Assert.DoesNotContain(token, row.TokenHash);

        host.Clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        Assert.Equal(ShareLinkState.Valid, (await links.OpenAsync(token)).State);
        host.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ShareLinkState.Gone, (await links.OpenAsync(token)).State);
    }

    [Fact]
    public async Task AnAlteredOrForgedTokenIsUnknown()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var links = scope.ServiceProvider.GetRequiredService<ShareLinkService>();
        var (_, token) = await CreateAsync(links, tenant, TimeSpan.FromDays(1));
        for (var i = 0; i < token.Length; i += 7)
        {
            var altered = token[..i] + (token[i] == 'x' ? 'y' : 'x') + token[(i + 1)..];
            Assert.Equal(ShareLinkState.Unknown, (await links.OpenAsync(altered)).State);
        }
        Assert.Equal(ShareLinkState.Unknown, (await links.OpenAsync(token[..^4])).State);
        Assert.Equal(ShareLinkState.Unknown, (await links.OpenAsync("not-a-token")).State);
        Assert.Equal(ShareLinkState.Unknown, (await links.OpenAsync("")).State);
    }

    [Fact]
    public async Task ARevokedLinkIsGoneAndOnlyItsOwnAccountCanRevokeIt()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync();
        var other = await host.CreateTenantAsync();
        await using var scope = host.App.Services.CreateAsyncScope();
        var links = scope.ServiceProvider.GetRequiredService<ShareLinkService>();
        var (created, token) = await CreateAsync(links, tenant, TimeSpan.FromDays(30));
        Assert.False(await links.RevokeAsync(other.Account.AccountID, tenant.Server.ID, created.Link.Id));
        Assert.Equal(ShareLinkState.Valid, (await links.OpenAsync(token)).State);
        Assert.True(await links.RevokeAsync(tenant.Account.AccountID, tenant.Server.ID, created.Link.Id));
        Assert.Equal(ShareLinkState.Gone, (await links.OpenAsync(token)).State);
        // A server of another account cannot be shared.
        await Assert.ThrowsAsync<Mailroom.Core.MailroomException>(() => links.CreateAsync(tenant.Account.AccountID, other.Server.ID, "x", TimeSpan.FromDays(1), null));
    }

    [Fact]
    public async Task TheViewShowsItsServersMessageButNotAnotherServersAndNoTokens()
    {
        await using var host = await MailroomHost.StartAsync();
        var tenant = await host.CreateTenantAsync("Shop");
        var second = await tenant.AccountApi.PostAsJsonAsync("/servers", new { Name = "Hidden", DeliveryType = "Sandbox" });
        var hidden = (await second.Content.ReadFromJsonAsync<Mailroom.Contracts.ServerResponse>())!;
        using var hiddenApi = host.ServerClient(hidden.ApiTokens[0]);
        var mine = await SendAsync(tenant.ServerApi, "Shared receipt");
        var theirs = await SendAsync(hiddenApi, "Hidden receipt");

        string url;
        await using (var scope = host.App.Services.CreateAsyncScope())
            url = (await scope.ServiceProvider.GetRequiredService<ShareLinkService>()
                .CreateAsync(tenant.Account.AccountID, tenant.Server.ID, "Acme", TimeSpan.FromDays(1), null)).Url;
        var path = new Uri(url).AbsolutePath;
        using var client = host.Client();

        var view = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        var html = await view.Content.ReadAsStringAsync();
        Assert.Contains("Shared receipt", html);
        Assert.DoesNotContain("Hidden receipt", html);
        Assert.DoesNotContain(tenant.Server.ApiTokens[0], html);
        Assert.DoesNotContain("/app/account", html); // no account navigation
        Assert.Equal("no-referrer", view.Headers.GetValues("Referrer-Policy").Single());

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{path}/messages/{mine}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{path}/messages/{theirs}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{path}/messages/{theirs}/html")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(path[..^3] + "abc")).StatusCode);
        // The signed-in pages stay closed to a link holder.
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync($"/app/servers/{tenant.Server.ID}")).StatusCode);

        await using (var scope = host.App.Services.CreateAsyncScope())
        {
            var links = scope.ServiceProvider.GetRequiredService<ShareLinkService>();
            var id = (await links.ListAsync(tenant.Account.AccountID, tenant.Server.ID)).Single().Id;
            await links.RevokeAsync(tenant.Account.AccountID, tenant.Server.ID, id);
        }
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync($"{path}/messages/{mine}")).StatusCode);
    }

    private static async Task<Guid> SendAsync(HttpClient api, string subject)
    {
        var sent = await api.PostAsJsonAsync("/email", new { From = "shop@mailroom.test", To = "buyer@customer.example", Subject = subject, TextBody = "Thanks." });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        return (await sent.Content.ReadFromJsonAsync<Mailroom.Contracts.SendResult>())!.MessageID!.Value;
    }

    /// <summary>A link labelled "Acme" to <paramref name="tenant"/>'s server, and the sealed token its URL carries.</summary>
    private static async Task<(ShareLinkCreated Created, string Token)> CreateAsync(ShareLinkService links, Tenant tenant, TimeSpan lifetime)
    {
        var created = await links.CreateAsync(tenant.Account.AccountID, tenant.Server.ID, "Acme", lifetime, null);
        return (created, created.Url[(created.Url.IndexOf(ShareLinkService.PathPrefix, StringComparison.Ordinal) + ShareLinkService.PathPrefix.Length)..]);
    }
}
