using Mailroom.Core.Identities;

namespace Mailroom.Tests.Identities;

/// <summary>Domains verified against a real DNS server on loopback: DKIM TXT, Return-Path CNAME, SPF, rotation and
/// the background re-check.</summary>
public sealed class DomainVerificationTests : DnsHostTests
{
    private HttpClient _api = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _api = Host.AccountClient((await Host.CreateAccountAsync()).AccountToken);
    }

    private async Task<JsonElement> CreateDomainAsync(string name, string? returnPath = null) =>
        await _api.PostAsJsonAsync("/domains", returnPath is null ? new { Name = name } : (object)new { Name = name, ReturnPathDomain = returnPath }).OkJson();

    private static int Id(JsonElement d) => d.GetProperty("ID").GetInt32();
    private static string Str(JsonElement d, string field) => d.GetProperty(field).GetString()!;
    private static bool Bool(JsonElement d, string field) => d.GetProperty(field).GetBoolean();

    /// <summary>The p= value of a DKIMTextValue ("k=rsa; p=...").</summary>
    private static string Key(string textValue) => textValue[(textValue.IndexOf("p=", StringComparison.Ordinal) + 2)..];

    private Task<JsonElement> VerifyDkimAsync(int id) => _api.PutAsync($"/domains/{id}/verifyDkim", null).OkJson();

    [Fact]
    public async Task DkimFailsBeforeTheRecordExistsAndWithAnotherKeyThenPassesWithTheRightOne()
    {
        var d = await CreateDomainAsync("shop.example");
        var host = Str(d, "DKIMPendingHost");
        var value = Str(d, "DKIMPendingTextValue");
        Assert.Matches(@"^\d{14}pm\._domainkey\.shop\.example$", host);
        Assert.StartsWith("k=rsa; p=MIIBIjAN", value); // RSA-2048 SubjectPublicKeyInfo

        var notYet = await VerifyDkimAsync(Id(d));
        Assert.False(Bool(notYet, "DKIMVerified"));
        Assert.Equal("Pending", Str(notYet, "DKIMUpdateStatus"));
        Assert.Equal("", Str(notYet, "DKIMHost"));
        Assert.Contains("does not exist", await DkimProblemAsync(Id(d)));

        var other = await CreateDomainAsync("other.example");
        DnsServer.AddTxt(host, Str(other, "DKIMPendingTextValue"));
        Assert.False(Bool(await VerifyDkimAsync(Id(d)), "DKIMVerified"));
        Assert.Contains("different public key", await DkimProblemAsync(Id(d)));

        DnsServer.Remove(host);
        DnsServer.AddTxt(host, value);
        var verified = await VerifyDkimAsync(Id(d));
        Assert.True(Bool(verified, "DKIMVerified"));
        Assert.Equal("Verified", Str(verified, "DKIMUpdateStatus"));
        Assert.Equal(host, Str(verified, "DKIMHost"));
        Assert.Equal(value, Str(verified, "DKIMTextValue"));
        Assert.Equal("", Str(verified, "DKIMPendingHost"));
        Assert.Equal("", Str(verified, "DKIMPendingTextValue"));
        Assert.False(Bool(verified, "WeakDKIM"));
        Assert.Equal("", await DkimProblemAsync(Id(d)));
    }

    [Theory]
    [InlineData("split")]
    [InlineData("no-space")]
    [InlineData("tags")]
    [InlineData("quoted")]
    [InlineData("spaces-in-key")]
    [InlineData("several-records")]
    public async Task DkimAcceptsTheWaysPeoplePublishTheKey(string shape)
    {
        var d = await CreateDomainAsync("mail.example");
        var host = Str(d, "DKIMPendingHost");
        var key = Key(Str(d, "DKIMPendingTextValue"));
        switch (shape)
        {
            case "split": // a TXT value over 255 bytes is several character-strings, joined by the reader
                DnsServer.AddTxt(host, "k=rsa; p=" + key[..200], key[200..]);
                break;
            case "no-space":
                DnsServer.AddTxt(host, "k=rsa;p=" + key);
                break;
            case "tags":
                DnsServer.AddTxt(host, $"v=DKIM1; h=sha256; k=rsa; s=email; t=s; p={key};");
                break;
            case "quoted": // pasted with the zone file's quotes
                DnsServer.AddTxt(host, "\"k=rsa; p=" + key + "\"");
                break;
            case "spaces-in-key":
                DnsServer.AddTxt(host, "k=rsa; p=" + string.Join(" ", key.Chunk(64).Select(c => new string(c))));
                break;
            case "several-records":
                DnsServer.AddTxt(host, "google-site-verification=abc");
                DnsServer.AddTxt(host, "v=DKIM1; k=rsa; p=");
                DnsServer.AddTxt(host, "k=rsa; p=" + key);
                break;
        }
        Assert.True(Bool(await VerifyDkimAsync(Id(d)), "DKIMVerified"), await DkimProblemAsync(Id(d)));
    }

    [Theory]
    [InlineData("v=DKIM1; k=rsa; p=")]
    [InlineData("v=DKIM2; k=rsa; p=KEY")]
    [InlineData("k=ed25519; p=KEY")]
    [InlineData("k=rsa; p=KEY; p=KEY")]
    [InlineData("k=rsa; KEY")]
    public async Task DkimRefusesRecordsThatDoNotPublishTheKey(string record)
    {
        var d = await CreateDomainAsync("mail.example");
        DnsServer.AddTxt(Str(d, "DKIMPendingHost"), record.Replace("KEY", Key(Str(d, "DKIMPendingTextValue"))));
        Assert.False(Bool(await VerifyDkimAsync(Id(d)), "DKIMVerified"));
        Assert.NotEqual("", await DkimProblemAsync(Id(d)));
    }

    [Fact]
    public async Task ReturnPathNeedsACnameToThePlatformBounceHost()
    {
        var d = await CreateDomainAsync("shop.example");
        Assert.Equal("pm-bounces.shop.example", Str(d, "ReturnPathDomain"));
        Assert.Equal("pm-bounces.mailroom.test", Str(d, "ReturnPathDomainCNAMEValue"));
        Assert.False(Bool(d, "ReturnPathDomainVerified"));

        var missing = await _api.PutAsync($"/domains/{Id(d)}/verifyReturnPath", null).OkJson();
        Assert.False(Bool(missing, "ReturnPathDomainVerified"));

        DnsServer.AddCname("pm-bounces.shop.example", "bounces.elsewhere.example");
        Assert.False(Bool(await _api.PutAsync($"/domains/{Id(d)}/verifyReturnPath", null).OkJson(), "ReturnPathDomainVerified"));

        DnsServer.Remove("pm-bounces.shop.example");
        DnsServer.AddCname("pm-bounces.shop.example", "PM-Bounces.Mailroom.Test."); // case and the trailing dot do not matter
        var verified = await _api.PutAsync($"/domains/{Id(d)}/verifyReturnPath", null).OkJson();
        Assert.True(Bool(verified, "ReturnPathDomainVerified"));

        // A new Return-Path domain must be verified again.
        var edited = await _api.PutAsJsonAsync($"/domains/{Id(d)}", new { ReturnPathDomain = "bounce.shop.example" }).OkJson();
        Assert.Equal("bounce.shop.example", Str(edited, "ReturnPathDomain"));
        Assert.False(Bool(edited, "ReturnPathDomainVerified"));
    }

    [Fact]
    public async Task SpfIsVerifiedWhenTheRecordIncludesThePlatform()
    {
        var d = await CreateDomainAsync("shop.example");
        Assert.Equal("shop.example", Str(d, "SPFHost"));
        Assert.Equal("v=spf1 a mx include:spf.mailroom.test ~all", Str(d, "SPFTextValue"));
        Assert.False(Bool(await _api.PostAsync($"/domains/{Id(d)}/verifySPF", null).OkJson(), "SPFVerified"));
        DnsServer.AddTxt("shop.example", "v=spf1 include:_spf.google.com ~all");
        Assert.False(Bool(await _api.PostAsync($"/domains/{Id(d)}/verifySpf", null).OkJson(), "SPFVerified"));
        DnsServer.Remove("shop.example");
        DnsServer.AddTxt("shop.example", "v=spf1 mx include:_spf.google.com ~include:SPF.mailroom.test. -all");
        Assert.True(Bool(await _api.PostAsync($"/domains/{Id(d)}/verifySpf", null).OkJson(), "SPFVerified"));
    }

    [Fact]
    public async Task FullRotationFromPendingToRevokedAndSafeToRemove()
    {
        var d = await CreateDomainAsync("shop.example");
        var id = Id(d);
        var first = (Host: Str(d, "DKIMPendingHost"), Value: Str(d, "DKIMPendingTextValue"));

        // A second rotation while the first key is still pending is refused.
        await _api.PostAsync($"/domains/{id}/rotateDkim", null).Error(422, 505);

        DnsServer.AddTxt(first.Host, first.Value);
        var verified = await VerifyDkimAsync(id);
        Assert.True(Bool(verified, "DKIMVerified"));
        Assert.Equal("", Str(verified, "DKIMRevokedHost"));
        Assert.False(Bool(verified, "SafeToRemoveRevokedKeyFromDNS"));

        // Rotate: a new pending key; the active one keeps signing.
        var rotated = await _api.PostAsync($"/domains/{id}/rotateDKIM", null).OkJson();
        var second = (Host: Str(rotated, "DKIMPendingHost"), Value: Str(rotated, "DKIMPendingTextValue"));
        Assert.NotEqual(first.Host, second.Host);
        Assert.NotEqual(first.Value, second.Value);
        Assert.Equal("Pending", Str(rotated, "DKIMUpdateStatus"));
        Assert.True(Bool(rotated, "DKIMVerified"));
        Assert.Equal(first.Host, Str(rotated, "DKIMHost"));
        Assert.Equal(first.Selector(), (await SigningSelectorAsync("shop.example")));
        await _api.PostAsync($"/domains/{id}/rotateDkim", null).Error(422, 505);

        // Not published yet: verifying keeps the old key active.
        var stillPending = await VerifyDkimAsync(id);
        Assert.Equal("Pending", Str(stillPending, "DKIMUpdateStatus"));
        Assert.Equal(first.Host, Str(stillPending, "DKIMHost"));
        Assert.True(Bool(stillPending, "DKIMVerified"));
        Assert.Equal(first.Selector(), (await SigningSelectorAsync("shop.example")));

        // Published: the new key becomes active, the old one revoked.
        DnsServer.AddTxt(second.Host, second.Value);
        var promoted = await _api.PutAsync($"/domains/{id}/verifyDKIM", null).OkJson();
        Assert.Equal("Verified", Str(promoted, "DKIMUpdateStatus"));
        Assert.True(Bool(promoted, "DKIMVerified"));
        Assert.Equal(second.Host, Str(promoted, "DKIMHost"));
        Assert.Equal(second.Value, Str(promoted, "DKIMTextValue"));
        Assert.Equal("", Str(promoted, "DKIMPendingHost"));
        Assert.Equal(first.Host, Str(promoted, "DKIMRevokedHost"));
        Assert.Equal(first.Value, Str(promoted, "DKIMRevokedTextValue"));
        Assert.False(Bool(promoted, "SafeToRemoveRevokedKeyFromDNS"));
        Assert.Equal(second.Selector(), (await SigningSelectorAsync("shop.example")));

        // The revoked record may go once the grace period (7 days) has passed.
        Host.Clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.False(Bool(await _api.GetAsync($"/domains/{id}").OkJson(), "SafeToRemoveRevokedKeyFromDNS"));
        Host.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(Bool(await _api.GetAsync($"/domains/{id}").OkJson(), "SafeToRemoveRevokedKeyFromDNS"));

        // A further rotation forgets the oldest key and revokes the second.
        var third = await _api.PostAsync($"/domains/{id}/rotateDkim", null).OkJson();
        DnsServer.AddTxt(Str(third, "DKIMPendingHost"), Str(third, "DKIMPendingTextValue"));
        var again = await VerifyDkimAsync(id);
        Assert.Equal(second.Host, Str(again, "DKIMRevokedHost"));
        Assert.Equal(Str(third, "DKIMPendingHost"), Str(again, "DKIMHost"));
        Assert.False(Bool(again, "SafeToRemoveRevokedKeyFromDNS"));
        Assert.Equal(2, await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().DkimKeys.CountAsync(k => k.DomainId == id)));
    }

    [Fact]
    public async Task BackgroundRecheckMarksADomainUnverifiedWhenItsRecordDisappears()
    {
        var d = await CreateDomainAsync("shop.example");
        var id = Id(d);
        DnsServer.AddTxt(Str(d, "DKIMPendingHost"), Str(d, "DKIMPendingTextValue"));
        DnsServer.AddCname("pm-bounces.shop.example", "pm-bounces.mailroom.test");
        Assert.True(Bool(await VerifyDkimAsync(id), "DKIMVerified"));
        Assert.True(Bool(await _api.PutAsync($"/domains/{id}/verifyReturnPath", null).OkJson(), "ReturnPathDomainVerified"));

        DnsServer.Remove(Str(d, "DKIMPendingHost"));
        DnsServer.Remove("pm-bounces.shop.example");
        var removedAt = Host.Clock.GetUtcNow().UtcDateTime;
        await Eventually.True(async () =>
        {
            Host.Clock.Advance(TimeSpan.FromHours(24)); // the worker's interval
            var domain = await LoadAsync(id);
            return !domain.DkimVerified && !domain.ReturnPathVerified;
        }, because: "the daily re-check should notice the removed records");

        var lost = await LoadAsync(id);
        Assert.NotNull(lost.DkimLostAt);
        Assert.True(lost.DkimLostAt > removedAt);
        Assert.Contains("does not exist", lost.DkimProblem);
        Assert.NotNull(lost.ReturnPathLostAt);
        Assert.NotEqual("", lost.ReturnPathProblem);
        var shown = await _api.GetAsync($"/domains/{id}").OkJson();
        Assert.False(Bool(shown, "DKIMVerified"));
        Assert.False(Bool(shown, "ReturnPathDomainVerified"));
        Assert.Equal(Str(d, "DKIMPendingHost"), Str(shown, "DKIMHost")); // still the record to publish again
        Assert.Null(await SigningSelectorAsync("shop.example"));

        // Publishing it again and verifying restores it.
        DnsServer.AddTxt(Str(d, "DKIMPendingHost"), Str(d, "DKIMPendingTextValue"));
        Assert.True(Bool(await VerifyDkimAsync(id), "DKIMVerified"));
        Assert.Null((await LoadAsync(id)).DkimLostAt);
    }

    [Fact]
    public async Task ADnsTimeoutLeavesAVerifiedDomainVerifiedAndSaysWhy()
    {
        var d = await CreateDomainAsync("shop.example");
        var host = Str(d, "DKIMPendingHost");
        DnsServer.AddTxt(host, Str(d, "DKIMPendingTextValue"));
        Assert.True(Bool(await VerifyDkimAsync(Id(d)), "DKIMVerified"));
        DnsServer.Silence(host);
        var after = await VerifyDkimAsync(Id(d));
        Assert.True(Bool(after, "DKIMVerified"));
        var domain = await LoadAsync(Id(d));
        Assert.Null(domain.DkimLostAt);
        Assert.Contains("failed", domain.DkimProblem);
    }

    [Fact]
    public async Task ADnsTimeoutDoesNotVerifyAPendingKey()
    {
        var d = await CreateDomainAsync("shop.example");
        DnsServer.Silence(Str(d, "DKIMPendingHost"));
        DnsServer.Silence(Str(d, "ReturnPathDomain"));
        Assert.False(Bool(await VerifyDkimAsync(Id(d)), "DKIMVerified"));
        Assert.False(Bool(await _api.PutAsync($"/domains/{Id(d)}/verifyReturnPath", null).OkJson(), "ReturnPathDomainVerified"));
    }

    private Task<string> DkimProblemAsync(int id) => LoadAsync(id).ContinueWith(t => t.Result.DkimProblem);

    private Task<SendingDomain> LoadAsync(int id) =>
        Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Domains.AsNoTracking().SingleAsync(x => x.Id == id));

    /// <summary>The selector the sending pipeline would sign with for mail From this domain (null: not the domain's key).</summary>
    private async Task<string?> SigningSelectorAsync(string domain)
    {
        var accountId = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Domains.Where(x => x.Name == domain).Select(x => x.AccountId).SingleAsync());
        var decision = await Host.ScopedAsync(sp => sp.GetRequiredService<SenderAuthorization>().AuthorizeAsync(accountId, "news@" + domain));
        return decision.Dkim is { } k && k.Domain == domain ? k.Selector : null;
    }
}

internal static class DkimHostExtensions
{
    /// <summary>The selector of a DKIM host name (<c>selector._domainkey.domain</c>).</summary>
    public static string Selector(this (string Host, string Value) key) => key.Host[..key.Host.IndexOf('.')];
}
