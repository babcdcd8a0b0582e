using Mailroom.Core.Identities;

namespace Mailroom.Tests.Identities;

/// <summary>The three identities a From address can rest on, the two refusals, and the signing material.</summary>
public sealed class SenderAuthorizationTests : DnsHostTests
{
    private HttpClient _api = null!;
    private int _accountId;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var account = await Host.CreateAccountAsync();
        _accountId = account.AccountID;
        _api = Host.AccountClient(account.AccountToken);
    }

    private Task<SenderDecision> AuthorizeAsync(string from, int? accountId = null) =>
        Host.ScopedAsync(sp => sp.GetRequiredService<SenderAuthorization>().AuthorizeAsync(accountId ?? _accountId, from));

    private Task<StoredDkimKey> PlatformKeyAsync() => Host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());

    private async Task<JsonElement> VerifiedDomainAsync(string name, bool returnPath)
    {
        var d = await _api.PostAsJsonAsync("/domains", new { Name = name }).OkJson();
        var id = d.GetProperty("ID").GetInt32();
        DnsServer.AddTxt(d.GetProperty("DKIMPendingHost").GetString()!, d.GetProperty("DKIMPendingTextValue").GetString()!);
        var verified = await _api.PutAsync($"/domains/{id}/verifyDkim", null).OkJson();
        Assert.True(verified.GetProperty("DKIMVerified").GetBoolean());
        if (returnPath)
        {
            DnsServer.AddCname("pm-bounces." + name, "pm-bounces.mailroom.test");
            Assert.True((await _api.PutAsync($"/domains/{id}/verifyReturnPath", null).OkJson()).GetProperty("ReturnPathDomainVerified").GetBoolean());
        }
        return verified;
    }

    private async Task ConfirmAsync(int signatureId) =>
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            await db.SenderSignatures.Where(s => s.Id == signatureId).ExecuteUpdateAsync(u => u.SetProperty(s => s.Confirmed, true));
            return 0;
        });

    [Theory]
    [InlineData("anything@mailroom.test")]
    [InlineData("Support Team <Help@MAILROOM.test>")]
    public async Task AnyAccountMaySendFromThePlatformDomainSignedWithThePlatformKey(string from)
    {
        var other = await Host.CreateAccountAsync();
        foreach (var account in new[] { _accountId, other.AccountID })
        {
            var decision = await AuthorizeAsync(from, account);
            Assert.True(decision.Allowed);
            Assert.Equal(SenderIdentity.PlatformDomain, decision.Identity);
            Assert.Equal("mailroom.test", decision.Dkim!.Domain);
            Assert.Equal((await PlatformKeyAsync()).Selector, decision.Dkim.Selector);
            Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", decision.Dkim.PrivateKeyPem);
            Assert.Equal("pm-bounces.mailroom.test", decision.ReturnPathDomain);
        }
        // Only the platform domain itself, not names under it.
        Assert.False((await AuthorizeAsync("x@sub.mailroom.test")).Allowed);
    }

    [Fact]
    public async Task AVerifiedDomainAllowsAnyAddressOfItSignedWithItsOwnKey()
    {
        var d = await VerifiedDomainAsync("shop.example", returnPath: true);
        var decision = await AuthorizeAsync("Orders <orders@Shop.Example>");
        Assert.True(decision.Allowed);
        Assert.Equal(SenderIdentity.Domain, decision.Identity);
        Assert.Equal("shop.example", decision.Dkim!.Domain);
        Assert.Equal(d.GetProperty("DKIMHost").GetString()!.Split('.')[0], decision.Dkim.Selector);
        Assert.Equal("pm-bounces.shop.example", decision.ReturnPathDomain);

        // The key signs: its public half is the one published.
        using var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportFromPem(decision.Dkim.PrivateKeyPem);
        Assert.EndsWith(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()), d.GetProperty("DKIMTextValue").GetString());
    }

    [Fact]
    public async Task WithoutAVerifiedReturnPathTheEnvelopeUsesThePlatformHost()
    {
        await VerifiedDomainAsync("shop.example", returnPath: false);
        var decision = await AuthorizeAsync("orders@shop.example");
        Assert.Equal(SenderIdentity.Domain, decision.Identity);
        Assert.Equal("pm-bounces.mailroom.test", decision.ReturnPathDomain);
    }

    [Fact]
    public async Task ADomainWhoseKeyIsOnlyPendingDoesNotAllowSending()
    {
        await _api.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var decision = await AuthorizeAsync("orders@shop.example");
        Assert.False(decision.Allowed);
        Assert.Equal(400, decision.ErrorCode);
    }

    [Fact]
    public async Task AConfirmedSignatureAllowsExactlyItsAddressSignedWithThePlatformKey()
    {
        var s = await _api.PostAsJsonAsync("/senders", new { FromEmail = "Jane@Shop.Example", Name = "Jane" }).OkJson();
        await ConfirmAsync(s.GetProperty("ID").GetInt32());
        var decision = await AuthorizeAsync("jane@shop.example");
        Assert.True(decision.Allowed);
        Assert.Equal(SenderIdentity.SenderSignature, decision.Identity);
        Assert.Equal("mailroom.test", decision.Dkim!.Domain);
        Assert.Equal((await PlatformKeyAsync()).Selector, decision.Dkim.Selector);
        Assert.Equal("pm-bounces.mailroom.test", decision.ReturnPathDomain);
        Assert.False((await AuthorizeAsync("john@shop.example")).Allowed);
    }

    [Fact]
    public async Task ASignatureOfADkimVerifiedDomainIsSignedWithTheDomainKeyAndItsReturnPath()
    {
        var s = await _api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane", ReturnPathDomain = "bounces.shop.example" }).OkJson();
        var id = s.GetProperty("ID").GetInt32();
        await ConfirmAsync(id);
        DnsServer.AddCname("bounces.shop.example", "pm-bounces.mailroom.test");
        Assert.True((await _api.PostAsync($"/senders/{id}/verifySpf", null).OkJson()).GetProperty("ReturnPathDomainVerified").GetBoolean());
        var bySignature = await AuthorizeAsync("jane@shop.example");
        Assert.Equal(SenderIdentity.SenderSignature, bySignature.Identity);
        Assert.Equal("bounces.shop.example", bySignature.ReturnPathDomain);

        await VerifiedDomainAsync("shop.example", returnPath: false);
        var byDomain = await AuthorizeAsync("jane@shop.example");
        Assert.True(byDomain.Allowed);
        Assert.Equal("shop.example", byDomain.Dkim!.Domain);
    }

    [Fact]
    public async Task AnUnknownAddressIsRefusedWithPostmarks400()
    {
        var decision = await AuthorizeAsync("Someone <someone@elsewhere.example>");
        Assert.False(decision.Allowed);
        Assert.Equal(SenderIdentity.None, decision.Identity);
        Assert.Equal(400, decision.ErrorCode);
        Assert.Equal("The 'From' address you supplied (someone@elsewhere.example) is not a Sender Signature on your account. Please add and confirm this address in order to be able to use it in the 'From' field of your messages.", decision.Message);
        Assert.Null(decision.Dkim);
    }

    [Fact]
    public async Task AnUnconfirmedSignatureIsRefusedWith401()
    {
        await _api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        var decision = await AuthorizeAsync("jane@shop.example");
        Assert.False(decision.Allowed);
        Assert.Equal(401, decision.ErrorCode);
        Assert.Contains("not been confirmed", decision.Message);
    }

    [Fact]
    public async Task AnotherAccountsIdentitiesDoNotCount()
    {
        var s = await _api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        await ConfirmAsync(s.GetProperty("ID").GetInt32());
        await VerifiedDomainAsync("brand.example", returnPath: true);
        var other = await Host.CreateAccountAsync();
        Assert.Equal(400, (await AuthorizeAsync("jane@shop.example", other.AccountID)).ErrorCode);
        Assert.Equal(400, (await AuthorizeAsync("news@brand.example", other.AccountID)).ErrorCode);
    }

    [Fact]
    public async Task AnUnreadableAddressIsRefusedWith300() =>
        Assert.Equal(300, (await AuthorizeAsync("not an address")).ErrorCode);

    [Fact]
    public async Task WithoutAPlatformDomainThereIsNoPlatformIdentityAndNothingToSignWith()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { PlatformDomain = null });
        var account = await host.CreateAccountAsync();
        var api = host.AccountClient(account.AccountToken);
        var s = await api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().SenderSignatures.ExecuteUpdateAsync(u => u.SetProperty(x => x.Confirmed, true)));
        var decision = await host.ScopedAsync(sp => sp.GetRequiredService<SenderAuthorization>().AuthorizeAsync(account.AccountID, "jane@shop.example"));
        Assert.True(decision.Allowed);
        Assert.Null(decision.Dkim);
        Assert.Equal("pm-bounces.mailroom.test", decision.ReturnPathDomain); // the public URL's host stands in
        Assert.Equal(400, (await host.ScopedAsync(sp => sp.GetRequiredService<SenderAuthorization>().AuthorizeAsync(account.AccountID, "x@mailroom.test"))).ErrorCode);
    }
}
