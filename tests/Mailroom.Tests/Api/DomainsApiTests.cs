using Mailroom.Core.Identities;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class DomainsApiTests : IAsyncLifetime
{
    private MailroomHost _host = null!;
    private HttpClient _api = null!;

    public async ValueTask InitializeAsync() => (_host, _api) = await MailroomHost.StartWithAccountAsync();

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private static readonly string[] DetailFields =
    [
        "ID", "Name", "SPFVerified", "SPFHost", "SPFTextValue", "DKIMVerified", "WeakDKIM", "DKIMHost", "DKIMTextValue",
        "DKIMPendingHost", "DKIMPendingTextValue", "DKIMRevokedHost", "DKIMRevokedTextValue", "SafeToRemoveRevokedKeyFromDNS",
        "DKIMUpdateStatus", "ReturnPathDomain", "ReturnPathDomainVerified", "ReturnPathDomainCNAMEValue",
    ];

    [Fact]
    public async Task CreateReturnsEveryDomainFieldWithAPendingKey()
    {
        var d = await _api.PostAsJsonAsync("/domains/", new { Name = "Shop.Example." }).OkJson();
        Assert.Equal(DetailFields.Order(), d.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("shop.example", d.GetProperty("Name").GetString());
        Assert.False(d.GetProperty("DKIMVerified").GetBoolean());
        Assert.False(d.GetProperty("WeakDKIM").GetBoolean());
        Assert.Equal("", d.GetProperty("DKIMHost").GetString());
        Assert.Equal("", d.GetProperty("DKIMTextValue").GetString());
        // Selector: the creation time (the host's fake clock, 2026-11-29 12:00:00 UTC) and "pm", as Postmark's.
        Assert.Equal("20261129120000pm._domainkey.shop.example", d.GetProperty("DKIMPendingHost").GetString());
        var value = d.GetProperty("DKIMPendingTextValue").GetString()!;
        Assert.StartsWith("k=rsa; p=", value);
        using (var rsa = System.Security.Cryptography.RSA.Create())
        {
            rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(value["k=rsa; p=".Length..]), out _);
            Assert.Equal(2048, rsa.KeySize);
        }
        Assert.Equal("", d.GetProperty("DKIMRevokedHost").GetString());
        Assert.Equal("", d.GetProperty("DKIMRevokedTextValue").GetString());
        Assert.False(d.GetProperty("SafeToRemoveRevokedKeyFromDNS").GetBoolean());
        Assert.Equal("Pending", d.GetProperty("DKIMUpdateStatus").GetString());
        Assert.Equal("pm-bounces.shop.example", d.GetProperty("ReturnPathDomain").GetString());
        Assert.False(d.GetProperty("ReturnPathDomainVerified").GetBoolean());
        Assert.Equal("pm-bounces.mailroom.test", d.GetProperty("ReturnPathDomainCNAMEValue").GetString());
        Assert.Equal("shop.example", d.GetProperty("SPFHost").GetString());

        var got = await _api.GetAsync($"/domains/{d.GetProperty("ID").GetInt32()}").OkJson();
        Assert.Equal(d.ToString(), got.ToString());
    }

    [Fact]
    public async Task PrivateKeysAreEncryptedAtRest()
    {
        var d = await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var stored = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().DkimKeys.SingleAsync(k => k.DomainId == d.GetProperty("ID").GetInt32()));
        Assert.DoesNotContain("PRIVATE KEY", stored.ProtectedPrivateKey);
        var pem = await _host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<DkimKeyStore>().PrivateKeyPem(stored)));
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", pem);
    }

    [Fact]
    public async Task ACustomReturnPathMustBeASubdomain()
    {
        var d = await _api.PostAsJsonAsync("/domains", new { Name = "shop.example", ReturnPathDomain = "Bounce.Shop.Example" }).OkJson();
        Assert.Equal("bounce.shop.example", d.GetProperty("ReturnPathDomain").GetString());
        await _api.PostAsJsonAsync("/domains", new { Name = "two.example", ReturnPathDomain = "bounce.other.example" }).Error(422, 522);
        await _api.PostAsJsonAsync("/domains", new { Name = "three.example", ReturnPathDomain = "three.example" }).Error(422, 522);
        await _api.PostAsJsonAsync("/domains", new { Name = "four.example", ReturnPathDomain = "no_underscores.four.example" }).Error(422, 522);
        var id = d.GetProperty("ID").GetInt32();
        await _api.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "pm-bounces.other.example" }).Error(422, 522);
        var reset = await _api.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "" }).OkJson();
        Assert.Equal("pm-bounces.shop.example", reset.GetProperty("ReturnPathDomain").GetString());
        var unchanged = await _api.PutAsync($"/domains/{id}", JsonBody("{\"ReturnPathDomain\":null}")).OkJson();
        Assert.Equal("pm-bounces.shop.example", unchanged.GetProperty("ReturnPathDomain").GetString());
    }

    [Theory]
    [InlineData("{}", 514)]
    [InlineData("{\"Name\":\" \"}", 514)]
    [InlineData("{\"Name\":\"no-dots\"}", 516)]
    [InlineData("{\"Name\":\"bad_label.example\"}", 516)]
    [InlineData("{\"Name\":\"x@shop.example\"}", 516)]
    [InlineData("{\"Name\":\"gmail.com\"}", 503)]
    [InlineData("{\"Name\":\"hotmail.fr\"}", 503)]
    [InlineData("{\"Name\":\"Name\":}", 402)]
    public async Task CreateRefusesInvalidInputWithPostmarkCodes(string body, int errorCode) =>
        await _api.PostAsync("/domains", JsonBody(body)).Error(422, errorCode);

    [Fact]
    public async Task ANameOver255CharactersIs515()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".example";
        await _api.PostAsJsonAsync("/domains", new { Name = name }).Error(422, 515);
    }

    [Fact]
    public async Task DuplicatesAreRefusedWithinAnAccountOnly()
    {
        await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        await _api.PostAsJsonAsync("/domains", new { Name = "SHOP.example" }).Error(422, 512);
        var other = await _host.NewAccountClientAsync();
        var theirs = await other.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        Assert.Equal("shop.example", theirs.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task ListIsPagedWithTheListFields()
    {
        foreach (var n in new[] { "a.example", "b.example", "c.example" })
            await _api.PostAsJsonAsync("/domains", new { Name = n }).OkJson();
        var page = await _api.GetAsync("/domains?count=2&offset=1").OkJson();
        Assert.Equal(3, page.GetProperty("TotalCount").GetInt32());
        var items = page.GetProperty("Domains").EnumerateArray().ToList();
        Assert.Equal(["b.example", "c.example"], items.Select(i => i.GetProperty("Name").GetString()));
        Assert.Equal(["ID", "Name", "SPFVerified", "DKIMVerified", "WeakDKIM", "ReturnPathDomainVerified"], items[0].EnumerateObject().Select(p => p.Name));
        await _api.GetAsync("/domains?count=0").Error(422, 511);
    }

    [Fact]
    public async Task DeleteRemovesTheDomainAndItsKeys()
    {
        var id = (await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson()).GetProperty("ID").GetInt32();
        var done = await _api.DeleteAsync($"/domains/{id}").OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        Assert.Contains("shop.example", done.GetProperty("Message").GetString());
        await _api.GetAsync($"/domains/{id}").Error(422, 510);
        var keys = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().DkimKeys.CountAsync(k => k.DomainId == id));
        Assert.Equal(0, keys);
    }

    [Theory]
    [InlineData("PUT", "verifyDkim")]
    [InlineData("PUT", "verifyDKIM")]
    [InlineData("PUT", "verifyReturnPath")]
    [InlineData("POST", "verifySPF")]
    [InlineData("POST", "verifySpf")]
    public async Task ActionRoutesAnswerInEveryClientsCasing(string method, string action)
    {
        var id = (await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson()).GetProperty("ID").GetInt32();
        var d = await _api.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/domains/{id}/{action}")).OkJson();
        Assert.Equal(id, d.GetProperty("ID").GetInt32());
        // The JS client sends {} with Content-Type on every call.
        var withBody = await _api.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/domains/{id}/{action}") { Content = JsonBody("{}") }).OkJson();
        Assert.Equal(id, withBody.GetProperty("ID").GetInt32());
    }

    [Fact]
    public async Task AnotherAccountCannotSeeVerifyRotateEditOrDeleteADomain()
    {
        var d = await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var id = d.GetProperty("ID").GetInt32();
        var b = await _host.NewAccountClientAsync();
        Assert.Equal(0, (await b.GetAsync("/domains").OkJson()).GetProperty("TotalCount").GetInt32());
        await b.GetAsync($"/domains/{id}").Error(422, 510);
        await b.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "x.shop.example" }).Error(422, 510);
        await b.PutAsync($"/domains/{id}/verifyDkim", null).Error(422, 510);
        await b.PutAsync($"/domains/{id}/verifyReturnPath", null).Error(422, 510);
        await b.PostAsync($"/domains/{id}/verifySpf", null).Error(422, 510);
        await b.PostAsync($"/domains/{id}/rotateDkim", null).Error(422, 510);
        await b.DeleteAsync($"/domains/{id}").Error(422, 510);
        var still = await _api.GetAsync($"/domains/{id}").OkJson();
        Assert.Equal(d.ToString(), still.ToString());
    }

    [Fact]
    public async Task UnknownIdsAreNotFound()
    {
        await _api.GetAsync("/domains/999999").Error(422, 510);
        await _api.PostAsync("/domains/999999/rotateDkim", null).Error(422, 510);
    }
}
