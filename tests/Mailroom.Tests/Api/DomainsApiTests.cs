using Mailroom.Core.Identities;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class DomainsApiTests : AccountHostTests
{
    private static readonly string[] DetailFields =
    [
        "ID", "Name", "SPFVerified", "SPFHost", "SPFTextValue", "DKIMVerified", "WeakDKIM", "DKIMHost", "DKIMTextValue",
        "DKIMPendingHost", "DKIMPendingTextValue", "DKIMRevokedHost", "DKIMRevokedTextValue", "SafeToRemoveRevokedKeyFromDNS",
        "DKIMUpdateStatus", "ReturnPathDomain", "ReturnPathDomainVerified", "ReturnPathDomainCNAMEValue",
    ];

    [Fact]
    public async Task CreateReturnsEveryDomainFieldWithAPendingKey()
    {
        var d = await AccountApi.PostAsJsonAsync("/domains/", new { Name = "Shop.Example." }).OkJson();
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

        var got = await AccountApi.GetAsync($"/domains/{d.GetProperty("ID").GetInt32()}").OkJson();
        Assert.Equal(d.ToString(), got.ToString());
    }

    [Fact]
    public async Task PrivateKeysAreEncryptedAtRest()
    {
        var d = await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().DkimKeys.SingleAsync(k => k.DomainId == d.GetProperty("ID").GetInt32()));
        Assert.DoesNotContain("PRIVATE KEY", stored.ProtectedPrivateKey);
        var pem = await Host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<DkimKeyStore>().PrivateKeyPem(stored)));
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", pem);
    }

    [Fact]
    public async Task ACustomReturnPathMustBeASubdomain()
    {
        var d = await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example", ReturnPathDomain = "Bounce.Shop.Example" }).OkJson();
        Assert.Equal("bounce.shop.example", d.GetProperty("ReturnPathDomain").GetString());
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "two.example", ReturnPathDomain = "bounce.other.example" }).Error(422, 522);
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "three.example", ReturnPathDomain = "three.example" }).Error(422, 522);
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "four.example", ReturnPathDomain = "no_underscores.four.example" }).Error(422, 522);
        var id = d.GetProperty("ID").GetInt32();
        await AccountApi.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "pm-bounces.other.example" }).Error(422, 522);
        var reset = await AccountApi.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "" }).OkJson();
        Assert.Equal("pm-bounces.shop.example", reset.GetProperty("ReturnPathDomain").GetString());
        var unchanged = await AccountApi.PutAsync($"/domains/{id}", JsonBody("{\"ReturnPathDomain\":null}")).OkJson();
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
        await AccountApi.PostAsync("/domains", JsonBody(body)).Error(422, errorCode);

    [Fact]
    public async Task ANameOver255CharactersIs515()
    {
        var name = string.Join('.', Enumerable.Repeat(new string('a', 60), 5)) + ".example";
        await AccountApi.PostAsJsonAsync("/domains", new { Name = name }).Error(422, 515);
    }

    [Fact]
    public async Task DuplicatesAreRefusedWithinAnAccountOnly()
    {
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "SHOP.example" }).Error(422, 512);
        var other = await Host.NewAccountClientAsync();
        var theirs = await other.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        Assert.Equal("shop.example", theirs.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task ListIsPagedWithTheListFields()
    {
        foreach (var n in new[] { "a.example", "b.example", "c.example" })
            await AccountApi.PostAsJsonAsync("/domains", new { Name = n }).OkJson();
        var page = await AccountApi.GetAsync("/domains?count=2&offset=1").OkJson();
        Assert.Equal(3, page.GetProperty("TotalCount").GetInt32());
        var items = page.GetProperty("Domains").EnumerateArray().ToList();
        Assert.Equal(["b.example", "c.example"], items.Select(i => i.GetProperty("Name").GetString()));
        Assert.Equal(["ID", "Name", "SPFVerified", "DKIMVerified", "WeakDKIM", "ReturnPathDomainVerified"], items[0].EnumerateObject().Select(p => p.Name));
        await AccountApi.GetAsync("/domains?count=0").Error(422, 511);
    }

    [Fact]
    public async Task DeleteRemovesTheDomainAndItsKeys()
    {
        var id = (await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson()).GetProperty("ID").GetInt32();
        var done = await AccountApi.DeleteAsync($"/domains/{id}").OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        Assert.Contains("shop.example", done.GetProperty("Message").GetString());
        await AccountApi.GetAsync($"/domains/{id}").Error(422, 510);
        var keys = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().DkimKeys.CountAsync(k => k.DomainId == id));
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
        var id = (await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson()).GetProperty("ID").GetInt32();
        var d = await AccountApi.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/domains/{id}/{action}")).OkJson();
        Assert.Equal(id, d.GetProperty("ID").GetInt32());
        // The JS client sends {} with Content-Type on every call.
        var withBody = await AccountApi.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/domains/{id}/{action}") { Content = JsonBody("{}") }).OkJson();
        Assert.Equal(id, withBody.GetProperty("ID").GetInt32());
    }

    [Fact]
    public async Task AnotherAccountCannotSeeVerifyRotateEditOrDeleteADomain()
    {
        var d = await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var id = d.GetProperty("ID").GetInt32();
        var b = await Host.NewAccountClientAsync();
        Assert.Equal(0, (await b.GetAsync("/domains").OkJson()).GetProperty("TotalCount").GetInt32());
        await b.GetAsync($"/domains/{id}").Error(422, 510);
        await b.PutAsJsonAsync($"/domains/{id}", new { ReturnPathDomain = "x.shop.example" }).Error(422, 510);
        await b.PutAsync($"/domains/{id}/verifyDkim", null).Error(422, 510);
        await b.PutAsync($"/domains/{id}/verifyReturnPath", null).Error(422, 510);
        await b.PostAsync($"/domains/{id}/verifySpf", null).Error(422, 510);
        await b.PostAsync($"/domains/{id}/rotateDkim", null).Error(422, 510);
        await b.DeleteAsync($"/domains/{id}").Error(422, 510);
        var still = await AccountApi.GetAsync($"/domains/{id}").OkJson();
        Assert.Equal(d.ToString(), still.ToString());
    }

    [Fact]
    public async Task UnknownIdsAreNotFound()
    {
        await AccountApi.GetAsync("/domains/999999").Error(422, 510);
        await AccountApi.PostAsync("/domains/999999/rotateDkim", null).Error(422, 510);
    }
}
