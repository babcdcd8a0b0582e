using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class SenderSignaturesApiTests : AccountHostTests
{
    private static readonly string[] DetailFields =
    [
        "Domain", "EmailAddress", "ReplyToEmailAddress", "Name", "SPFHost", "SPFTextValue", "DKIMHost", "DKIMTextValue",
        "DKIMPendingHost", "DKIMPendingTextValue", "DKIMRevokedHost", "DKIMRevokedTextValue", "DKIMUpdateStatus",
        "ReturnPathDomain", "ReturnPathDomainCNAMEValue", "ConfirmationPersonalNote",
    ];

    [Fact]
    public async Task CreateReturnsEverySignatureFieldAndNoNulls()
    {
        var s = await AccountApi.PostAsJsonAsync("/senders/", new
        {
            FromEmail = "Jane.Doe@Shop.Example",
            Name = "Jane Doe",
            ReplyToEmail = "support@shop.example",
            ReturnPathDomain = "bounces.shop.example",
            ConfirmationPersonalNote = "Please confirm",
        }).OkJson();
        Assert.True(s.GetProperty("ID").GetInt32() > 0);
        Assert.Equal("shop.example", s.GetProperty("Domain").GetString());
        Assert.Equal("Jane.Doe@shop.example", s.GetProperty("EmailAddress").GetString());
        Assert.Equal("support@shop.example", s.GetProperty("ReplyToEmailAddress").GetString());
        Assert.Equal("Jane Doe", s.GetProperty("Name").GetString());
        Assert.False(s.GetProperty("Confirmed").GetBoolean());
        Assert.Equal("Please confirm", s.GetProperty("ConfirmationPersonalNote").GetString());
        Assert.False(s.GetProperty("SPFVerified").GetBoolean());
        Assert.Equal("shop.example", s.GetProperty("SPFHost").GetString());
        Assert.Equal("v=spf1 a mx include:spf.mailroom.test ~all", s.GetProperty("SPFTextValue").GetString());
        Assert.False(s.GetProperty("DKIMVerified").GetBoolean());
        Assert.False(s.GetProperty("WeakDKIM").GetBoolean());
        Assert.False(s.GetProperty("SafeToRemoveRevokedKeyFromDNS").GetBoolean());
        Assert.Equal("bounces.shop.example", s.GetProperty("ReturnPathDomain").GetString());
        Assert.False(s.GetProperty("ReturnPathDomainVerified").GetBoolean());
        Assert.Equal("pm-bounces.mailroom.test", s.GetProperty("ReturnPathDomainCNAMEValue").GetString());
        foreach (var field in DetailFields)
            Assert.Equal(JsonValueKind.String, s.GetProperty(field).ValueKind);
        Assert.Equal("", s.GetProperty("DKIMHost").GetString()); // no domain on the account: no DKIM to show

        var got = await AccountApi.GetAsync($"/senders/{s.GetProperty("ID").GetInt32()}").OkJson();
        Assert.Equal(s.ToString(), got.ToString());
    }

    [Fact]
    public async Task ASignatureShowsItsDomainsDkimWhenTheAccountHasTheDomain()
    {
        var d = await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        var s = await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        Assert.Equal(d.GetProperty("DKIMPendingHost").GetString(), s.GetProperty("DKIMPendingHost").GetString());
        Assert.Equal(d.GetProperty("DKIMPendingTextValue").GetString(), s.GetProperty("DKIMPendingTextValue").GetString());
        Assert.Equal("Pending", s.GetProperty("DKIMUpdateStatus").GetString());
        Assert.Equal("", s.GetProperty("ReturnPathDomain").GetString()); // the signature's own, not the domain's
    }

    [Fact]
    public async Task ListIsPagedAndShowsTheListFields()
    {
        for (var i = 0; i < 3; i++)
            await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = $"user{i}@shop.example", Name = $"User {i}", ReplyToEmail = "r@shop.example" }).OkJson();
        var all = await AccountApi.GetAsync("/senders?count=2&offset=0").OkJson();
        Assert.Equal(3, all.GetProperty("TotalCount").GetInt32());
        var items = all.GetProperty("SenderSignatures").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal(["ID", "Domain", "EmailAddress", "ReplyToEmailAddress", "Name", "Confirmed"], items[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("user0@shop.example", items[0].GetProperty("EmailAddress").GetString());
        var rest = await AccountApi.GetAsync("/senders?Count=2&Offset=2").OkJson();
        Assert.Equal("user2@shop.example", Assert.Single(rest.GetProperty("SenderSignatures").EnumerateArray()).GetProperty("EmailAddress").GetString());
        await AccountApi.GetAsync("/senders?count=501").Error(422, 500);
        await AccountApi.GetAsync("/senders?offset=-1").Error(422, 500);
    }

    [Theory]
    [InlineData("{\"Name\":\"Jane\"}", 520)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\"}", 520)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\",\"Name\":\"  \"}", 520)]
    [InlineData("{\"FromEmail\":\"not an address\",\"Name\":\"Jane\"}", 522)]
    [InlineData("{\"FromEmail\":\"Jane <jane@shop.example>\",\"Name\":\"Jane\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@localhost\",\"Name\":\"Jane\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\",\"Name\":\"Jane\",\"ReplyToEmail\":\"nope\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\",\"Name\":\"Jane\",\"ReturnPathDomain\":\"bounces.other.example\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\",\"Name\":\"Jane\",\"ReturnPathDomain\":\"shop.example\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@shop.example\",\"Name\":\"Jane\\r\\nBcc: x@y.z\"}", 522)]
    [InlineData("{\"FromEmail\":\"jane@gmail.com\",\"Name\":\"Jane\"}", 503)]
    [InlineData("{\"FromEmail\":\"jane@Mail.Yahoo.co.uk\",\"Name\":\"Jane\"}", 503)]
    [InlineData("{\"FromEmail\":\"jane@proton.me\",\"Name\":\"Jane\"}", 503)]
    [InlineData("{\"FromEmail\":5,\"Name\":\"Jane\"}", 403)]
    public async Task CreateRefusesInvalidInputWithPostmarkCodes(string body, int errorCode) =>
        await AccountApi.PostAsync("/senders", JsonBody(body)).Error(422, errorCode);

    [Fact]
    public async Task LengthLimits()
    {
        await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "a@shop.example", Name = new string('n', 256) }).Error(422, 521);
        await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "b@shop.example", Name = "B", ConfirmationPersonalNote = new string('x', 401) }).Error(422, 521);
        var ok = await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "c@shop.example", Name = "C", ConfirmationPersonalNote = new string('x', 400) }).OkJson();
        Assert.Equal(400, ok.GetProperty("ConfirmationPersonalNote").GetString()!.Length);
    }

    [Fact]
    public async Task DuplicatesAreRefusedWithinAnAccountOnly()
    {
        await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "JANE@Shop.Example", Name = "Jane again" }).Error(422, 504);
        var other = await Host.NewAccountClientAsync();
        await other.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
    }

    [Fact]
    public async Task EditChangesGivenFieldsAndNeedsAName()
    {
        var s = await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane", ReplyToEmail = "r@shop.example", ConfirmationPersonalNote = "hi" }).OkJson();
        var id = s.GetProperty("ID").GetInt32();
        await AccountApi.PutAsJsonAsync($"/senders/{id}", new { ReplyToEmail = "x@shop.example" }).Error(422, 520);
        var edited = await AccountApi.PutAsync($"/senders/{id}", JsonBody("""{"Name":"Jane D.","ReplyToEmail":null,"ReturnPathDomain":"pm-bounces.shop.example","ConfirmationPersonalNote":null}""")).OkJson();
        Assert.Equal("Jane D.", edited.GetProperty("Name").GetString());
        Assert.Equal("r@shop.example", edited.GetProperty("ReplyToEmailAddress").GetString());
        Assert.Equal("pm-bounces.shop.example", edited.GetProperty("ReturnPathDomain").GetString());
        Assert.Equal("hi", edited.GetProperty("ConfirmationPersonalNote").GetString());
        var cleared = await AccountApi.PutAsJsonAsync($"/senders/{id}", new { Name = "Jane", ReplyToEmail = "", ReturnPathDomain = "", ConfirmationPersonalNote = "" }).OkJson();
        Assert.Equal("", cleared.GetProperty("ReplyToEmailAddress").GetString());
        Assert.Equal("", cleared.GetProperty("ReturnPathDomain").GetString());
        Assert.Equal("", cleared.GetProperty("ConfirmationPersonalNote").GetString());
        Assert.Equal("jane@shop.example", cleared.GetProperty("EmailAddress").GetString());
        await AccountApi.PutAsJsonAsync($"/senders/{id}", new { Name = "Jane", ReturnPathDomain = "bounces.elsewhere.example" }).Error(422, 522);
    }

    [Fact]
    public async Task DeleteRemovesTheSignature()
    {
        var id = (await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson()).GetProperty("ID").GetInt32();
        var done = await AccountApi.DeleteAsync($"/senders/{id}").OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        await AccountApi.GetAsync($"/senders/{id}").Error(422, 501);
        await AccountApi.DeleteAsync($"/senders/{id}").Error(422, 501);
    }

    [Fact]
    public async Task RequestNewDkimRotatesTheAccountsDomainKey()
    {
        var id = (await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson()).GetProperty("ID").GetInt32();
        await AccountApi.PostAsync($"/senders/{id}/requestNewDkim", null).Error(422, 508);
        await AccountApi.PostAsJsonAsync("/domains", new { Name = "shop.example" }).OkJson();
        await AccountApi.PostAsync($"/senders/{id}/requestNewDkim", null).Error(422, 505); // its first key is still pending
    }

    [Fact]
    public async Task VerifySpfAnswersTheSignatureDetails()
    {
        var id = (await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson()).GetProperty("ID").GetInt32();
        var s = await AccountApi.PostAsync($"/senders/{id}/verifySpf", null).OkJson();
        Assert.False(s.GetProperty("SPFVerified").GetBoolean()); // the test host's resolver answers nothing
        Assert.Equal(id, s.GetProperty("ID").GetInt32());
    }

    [Fact]
    public async Task AnotherAccountCannotSeeOrTouchASignature()
    {
        var s = await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        var id = s.GetProperty("ID").GetInt32();
        var b = await Host.NewAccountClientAsync();
        Assert.Equal(0, (await b.GetAsync("/senders").OkJson()).GetProperty("TotalCount").GetInt32());
        await b.GetAsync($"/senders/{id}").Error(422, 501);
        await b.PutAsJsonAsync($"/senders/{id}", new { Name = "Mine" }).Error(422, 501);
        await b.PostAsync($"/senders/{id}/resend", null).Error(422, 501);
        await b.PostAsync($"/senders/{id}/verifySpf", null).Error(422, 501);
        await b.PostAsync($"/senders/{id}/requestNewDkim", null).Error(422, 501);
        await b.DeleteAsync($"/senders/{id}").Error(422, 501);
        var still = await AccountApi.GetAsync($"/senders/{id}").OkJson();
        Assert.Equal("Jane", still.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task NeedsTheAccountToken()
    {
        await Host.Client().GetAsync("/senders").Error(401, 10);
        var tenant = await Host.CreateTenantAsync();
        await tenant.ServerApi.GetAsync("/senders").Error(401, 10);
    }
}
