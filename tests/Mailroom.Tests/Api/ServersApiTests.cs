using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class ServersApiTests : HostTests
{
    [Fact]
    public async Task CreateReturnsEveryFieldWithDefaults()
    {
        var account = await Host.CreateAccountAsync();
        var api = Host.AccountClient(account.AccountToken);
        var s = await api.PostAsJsonAsync("/servers/", new { Name = "Shop", Color = "Blue" }).OkJson();
        Assert.True(s.GetProperty("ID").GetInt32() > 0);
        Assert.Equal("Shop", s.GetProperty("Name").GetString());
        Assert.Equal("blue", s.GetProperty("Color").GetString());
        var token = Assert.Single(s.GetProperty("ApiTokens").EnumerateArray()).GetString()!;
        Assert.True(Guid.TryParse(token, out _));
        Assert.Equal($"http://mailroom.test/servers/{s.GetProperty("ID").GetInt32()}/streams", s.GetProperty("ServerLink").GetString());
        Assert.Equal("Live", s.GetProperty("DeliveryType").GetString());
        Assert.True(s.GetProperty("SmtpApiActivated").GetBoolean());
        Assert.False(s.GetProperty("RawEmailEnabled").GetBoolean());
        Assert.False(s.GetProperty("TrackOpens").GetBoolean());
        Assert.Equal("None", s.GetProperty("TrackLinks").GetString());
        Assert.Equal(32, s.GetProperty("InboundHash").GetString()!.Length);
        Assert.Equal(s.GetProperty("InboundHash").GetString() + "@inbound.mailroom.localhost", s.GetProperty("InboundAddress").GetString());
        foreach (var field in new[] { "InboundHookUrl", "BounceHookUrl", "OpenHookUrl", "DeliveryHookUrl", "ClickHookUrl", "InboundDomain" })
            Assert.Equal("", s.GetProperty(field).GetString());
        Assert.Equal(0, s.GetProperty("InboundSpamThreshold").GetInt32());
        Assert.False(s.GetProperty("PostFirstOpenOnly").GetBoolean());
        Assert.False(s.GetProperty("IncludeBounceContentInHook").GetBoolean());
        Assert.False(s.GetProperty("EnableSmtpApiErrorHooks").GetBoolean());
    }

    [Fact]
    public async Task CreateStoresEverySettableField()
    {
        var account = await Host.CreateAccountAsync();
        var api = Host.AccountClient(account.AccountToken);
        var s = await api.PostAsJsonAsync("/servers", new
        {
            Name = "Full",
            Color = "turqoise",
            SmtpApiActivated = false,
            RawEmailEnabled = true,
            DeliveryType = "sandbox",
            InboundHookUrl = "https://hooks.example.com/inbound",
            BounceHookUrl = "https://hooks.example.com/bounce",
            OpenHookUrl = "http://hooks.example.com/open",
            DeliveryHookUrl = "https://hooks.example.com/delivery",
            ClickHookUrl = "https://hooks.example.com/click",
            PostFirstOpenOnly = true,
            InboundDomain = "Inbound.Example.com",
            InboundSpamThreshold = 15,
            TrackOpens = true,
            TrackLinks = "htmlonly",
            IncludeBounceContentInHook = true,
            EnableSmtpApiErrorHooks = true,
        }).OkJson();
        var id = s.GetProperty("ID").GetInt32();
        var got = await api.GetAsync($"/servers/{id}").OkJson();
        Assert.Equal("turquoise", got.GetProperty("Color").GetString());
        Assert.False(got.GetProperty("SmtpApiActivated").GetBoolean());
        Assert.True(got.GetProperty("RawEmailEnabled").GetBoolean());
        Assert.Equal("Sandbox", got.GetProperty("DeliveryType").GetString());
        Assert.Equal("https://hooks.example.com/inbound", got.GetProperty("InboundHookUrl").GetString());
        Assert.Equal("https://hooks.example.com/bounce", got.GetProperty("BounceHookUrl").GetString());
        Assert.Equal("http://hooks.example.com/open", got.GetProperty("OpenHookUrl").GetString());
        Assert.Equal("https://hooks.example.com/delivery", got.GetProperty("DeliveryHookUrl").GetString());
        Assert.Equal("https://hooks.example.com/click", got.GetProperty("ClickHookUrl").GetString());
        Assert.True(got.GetProperty("PostFirstOpenOnly").GetBoolean());
        Assert.Equal("inbound.example.com", got.GetProperty("InboundDomain").GetString());
        Assert.Equal(15, got.GetProperty("InboundSpamThreshold").GetInt32());
        Assert.True(got.GetProperty("TrackOpens").GetBoolean());
        Assert.Equal("HtmlOnly", got.GetProperty("TrackLinks").GetString());
        Assert.True(got.GetProperty("IncludeBounceContentInHook").GetBoolean());
        Assert.True(got.GetProperty("EnableSmtpApiErrorHooks").GetBoolean());
    }

    [Theory]
    [InlineData("{}", 608)]
    [InlineData("{\"Name\":\"  \"}", 608)]
    [InlineData("{\"Name\":\"a\\r\\nBcc: x\"}", 608)]
    [InlineData("{\"Name\":\"X\",\"Color\":\"pink\"}", 607)]
    [InlineData("{\"Name\":\"X\",\"DeliveryType\":\"Test\"}", 613)]
    [InlineData("{\"Name\":\"X\",\"TrackLinks\":\"Sometimes\"}", 612)]
    [InlineData("{\"Name\":\"X\",\"TrackLinks\":\"1\"}", 612)]
    [InlineData("{\"Name\":\"X\",\"InboundSpamThreshold\":7}", 611)]
    [InlineData("{\"Name\":\"X\",\"InboundSpamThreshold\":35}", 611)]
    [InlineData("{\"Name\":\"X\",\"BounceHookUrl\":\"ftp://x.example.com/\"}", 606)]
    [InlineData("{\"Name\":\"X\",\"OpenHookUrl\":\"not a url\"}", 606)]
    [InlineData("{\"Name\":\"X\",\"InboundDomain\":\"no_dots\"}", 610)]
    [InlineData("{\"Name\":5}", 403)]
    [InlineData("{\"Name\":\"X\",\"TrackOpens\":\"maybe\"}", 403)]
    [InlineData("[1,2]", 403)]
    [InlineData("{\"Name\":", 402)]
    [InlineData("not json", 402)]
    public async Task CreateRefusesInvalidInputWithPostmarkCodes(string body, int errorCode)
    {
        var account = await Host.CreateAccountAsync();
        var api = Host.AccountClient(account.AccountToken);
        await api.PostAsync("/servers", JsonBody(body)).Error(422, errorCode);
    }

    [Fact]
    public async Task WrongContentTypeIsAJsonError()
    {
        var account = await Host.CreateAccountAsync();
        var api = Host.AccountClient(account.AccountToken);
        await api.PostAsync("/servers", new StringContent("Name=x", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded")).Error(415, 409);
    }

    [Fact]
    public async Task NamesAreUniqueWithinAnAccountOnly()
    {
        var a = await Host.NewAccountClientAsync();
        var b = await Host.NewAccountClientAsync();
        await a.PostAsJsonAsync("/servers", new { Name = "Shop" }).OkJson();
        await a.PostAsJsonAsync("/servers", new { Name = "shop" }).Error(422, 603);
        await b.PostAsJsonAsync("/servers", new { Name = "Shop" }).OkJson();
        var other = await a.PostAsJsonAsync("/servers", new { Name = "Other" }).OkJson();
        await a.PutAsJsonAsync($"/servers/{other.GetProperty("ID").GetInt32()}", new { Name = "Shop" }).Error(422, 603);
    }

    [Fact]
    public async Task InboundDomainIsUniqueAcrossServers()
    {
        var a = await Host.NewAccountClientAsync();
        var b = await Host.NewAccountClientAsync();
        await a.PostAsJsonAsync("/servers", new { Name = "One", InboundDomain = "in.example.com" }).OkJson();
        await b.PostAsJsonAsync("/servers", new { Name = "Two", InboundDomain = "in.example.com" }).Error(422, 602);
    }

    [Fact]
    public async Task EditChangesOnlyGivenFieldsAndNullLeavesThemAlone()
    {
        var api = await Host.NewAccountClientAsync();
        var s = await api.PostAsJsonAsync("/servers", new { Name = "Shop", Color = "red", TrackOpens = true, BounceHookUrl = "https://h.example.com/b" }).OkJson();
        var id = s.GetProperty("ID").GetInt32();
        var edited = await api.PutAsync($"/servers/{id}", JsonBody("""
            {"Name":null,"Color":"Green","TrackOpens":null,"BounceHookUrl":null,"TrackLinks":"HtmlAndText","SmtpApiActivated":null}
            """)).OkJson();
        Assert.Equal("Shop", edited.GetProperty("Name").GetString());
        Assert.Equal("green", edited.GetProperty("Color").GetString());
        Assert.True(edited.GetProperty("TrackOpens").GetBoolean());
        Assert.Equal("https://h.example.com/b", edited.GetProperty("BounceHookUrl").GetString());
        Assert.Equal("HtmlAndText", edited.GetProperty("TrackLinks").GetString());
        var cleared = await api.PutAsJsonAsync($"/servers/{id}", new { BounceHookUrl = "" }).OkJson();
        Assert.Equal("", cleared.GetProperty("BounceHookUrl").GetString());
        await api.PutAsJsonAsync($"/servers/{id}", new { DeliveryType = "Sandbox" }).Error(422, 613);
        await api.PutAsJsonAsync("/servers/999999", new { Name = "x" }).Error(422, 601);
    }

    [Theory]
    [InlineData("99999999999")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("abc")]
    public async Task AnIdThatNamesNoServerGetsPostmarksServerNotFoundOnEveryVerb(string id)
    {
        // An ID too large for the route's int used to fall through to "No such endpoint" (404) while -1 got 601.
        var api = await Host.NewAccountClientAsync();
        var get = await api.GetAsync($"/servers/{id}").Error(422, 601);
        Assert.Equal($"Server '{id}' was not found.", get);
        Assert.Equal(get, await api.PutAsJsonAsync($"/servers/{id}", new { Name = "x" }).Error(422, 601));
        Assert.Equal(get, await api.DeleteAsync($"/servers/{id}").Error(422, 601));
    }

    [Fact]
    public async Task AJsonBodyStartingWithAUtf8ByteOrderMarkCreatesAServer()
    {
        var api = await Host.NewAccountClientAsync();
        var content = new ByteArrayContent([.. System.Text.Encoding.UTF8.GetPreamble(), .. """{"Name":"Bom"}"""u8]);
        content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        var created = await api.PostAsync("/servers", content).OkJson();
        Assert.Equal("Bom", created.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task ListPagesAndFiltersByName()
    {
        var api = await Host.NewAccountClientAsync();
        foreach (var n in new[] { "alpha shop", "beta", "Gamma Shop", "delta", "epsilon_shop" })
            await api.PostAsJsonAsync("/servers", new { Name = n }).OkJson();
        var all = await api.GetAsync("/servers?count=500&offset=0").OkJson();
        Assert.Equal(5, all.GetProperty("TotalCount").GetInt32());
        var page = await api.GetAsync("/servers?Count=2&Offset=1").OkJson();
        Assert.Equal(5, page.GetProperty("TotalCount").GetInt32());
        Assert.Equal(["beta", "Gamma Shop"], page.GetProperty("Servers").EnumerateArray().Select(s => s.GetProperty("Name").GetString()));
        var shops = await api.GetAsync("/servers?count=10&offset=0&name=SHOP").OkJson();
        Assert.Equal(3, shops.GetProperty("TotalCount").GetInt32());
        var underscore = await api.GetAsync("/servers?count=10&offset=0&name=n_s").OkJson();
        Assert.Equal(1, underscore.GetProperty("TotalCount").GetInt32());
        var beyond = await api.GetAsync("/servers?count=10&offset=50").OkJson();
        Assert.Empty(beyond.GetProperty("Servers").EnumerateArray());
        await api.GetAsync("/servers?count=501&offset=0").Error(422, 600);
        await api.GetAsync("/servers?count=0&offset=0").Error(422, 600);
        await api.GetAsync("/servers?count=10&offset=-1").Error(422, 600);
        await api.GetAsync("/servers?count=ten&offset=0").Error(422, 600);
    }

    [Fact]
    public async Task DeleteRemovesTheServerAndItsTokenStopsWorkingAtOnce()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.GetAsync("/server").OkJson();
        var done = await t.AccountApi.DeleteAsync($"/servers/{t.Server.ID}").OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        await t.ServerApi.GetAsync("/server").Error(401, 10);
        await t.ServerApi.GetAsync("/message-streams").Error(401, 10);
        await t.AccountApi.GetAsync($"/servers/{t.Server.ID}").Error(422, 601);
        await t.AccountApi.DeleteAsync($"/servers/{t.Server.ID}").Error(422, 601);
    }

    [Fact]
    public async Task ServerTokenReadsAndEditsItsOwnServer()
    {
        var t = await Host.CreateTenantAsync("Own");
        var own = await t.ServerApi.GetAsync("/server").OkJson();
        Assert.Equal(t.Server.ID, own.GetProperty("ID").GetInt32());
        var edited = await t.ServerApi.PutAsJsonAsync("/server/", new { Name = "Renamed", InboundSpamThreshold = 5 }).OkJson();
        Assert.Equal("Renamed", edited.GetProperty("Name").GetString());
        Assert.Equal(5, edited.GetProperty("InboundSpamThreshold").GetInt32());
        await t.ServerApi.PutAsJsonAsync("/server", new { Color = "nope" }).Error(422, 607);
    }

    [Fact]
    public async Task TokensOfTheWrongKindOrMissingAreRefusedWith401()
    {
        var t = await Host.CreateTenantAsync();
        var anon = Host.Client();
        var noToken = await anon.GetAsync("/servers").Error(401, 10);
        Assert.Contains("X-Postmark-Account-Token", noToken);
        await anon.GetAsync("/server").Error(401, 10);
        await Host.AccountClient("00000000-0000-0000-0000-000000000000").GetAsync("/servers").Error(401, 10);
        await Host.ServerClient("wrong").GetAsync("/server").Error(401, 10);
        // A server token where the account token is required, and the reverse.
        await Host.ServerClient(t.Server.ApiTokens[0]).GetAsync("/servers").Error(401, 10);
        await Host.AccountClient(t.Account.AccountToken).GetAsync("/server").Error(401, 10);
        await Host.AccountClient(t.Server.ApiTokens[0]).GetAsync("/servers").Error(401, 10);
        await Host.ServerClient(t.Account.AccountToken).GetAsync("/message-streams").Error(401, 10);
    }

    [Fact]
    public async Task AnAccountNeverSeesAnotherAccountsServers()
    {
        var a = await Host.CreateTenantAsync("A-server");
        var b = await Host.CreateTenantAsync("B-server");
        var listA = await a.AccountApi.GetAsync("/servers?count=100&offset=0").OkJson();
        Assert.Equal(1, listA.GetProperty("TotalCount").GetInt32());
        Assert.Equal("A-server", listA.GetProperty("Servers")[0].GetProperty("Name").GetString());
        await a.AccountApi.GetAsync($"/servers/{b.Server.ID}").Error(422, 601);
        await a.AccountApi.PutAsJsonAsync($"/servers/{b.Server.ID}", new { Name = "stolen" }).Error(422, 601);
        await a.AccountApi.DeleteAsync($"/servers/{b.Server.ID}").Error(422, 601);
        var stillB = await b.AccountApi.GetAsync($"/servers/{b.Server.ID}").OkJson();
        Assert.Equal("B-server", stillB.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task RoutesAndQueryNamesMatchCaseInsensitivelyWithTrailingSlash()
    {
        var t = await Host.CreateTenantAsync();
        await t.AccountApi.GetAsync("/SERVERS/?COUNT=5&OFFSET=0").OkJson();
        await t.AccountApi.GetAsync($"/Servers/{t.Server.ID}/").OkJson();
        await t.ServerApi.GetAsync("/Message-Streams/?messageStreamType=all&includeArchivedStreams=False").OkJson();
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsAnswerJson()
    {
        var anon = Host.Client();
        var res = await anon.GetAsync("/no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        Assert.Equal("application/json", res.Content.Headers.ContentType?.MediaType);
        var t = await Host.CreateTenantAsync();
        var del = await t.ServerApi.DeleteAsync("/server");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, del.StatusCode);
        Assert.Equal("application/json", del.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task HealthAnswers200WhenReady()
    {
        var res = await Host.Client().GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
    }
}
