using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Templates;

/// <summary>The Templates API (spec §11): every endpoint, rule and error code, and tenant isolation.</summary>
public sealed class TemplatesApiTests : HostTests
{
    internal static object Layout(string alias = "base") => new
    {
        Name = "Base layout",
        Alias = alias,
        TemplateType = "Layout",
        HtmlBody = "<html><body><h1>{{company}}</h1>{{{ @content }}}</body></html>",
        TextBody = "{{company}}\n{{{ @content }}}\n--",
    };

    internal static object Welcome(string alias = "welcome", string? layout = null) => new
    {
        Name = "Welcome",
        Alias = alias,
        Subject = "Welcome, {{name}}!",
        HtmlBody = "<p>Hi {{name}}</p><ul>{{#each items}}<li>{{title}}</li>{{/each}}</ul>",
        TextBody = "Hi {{name}}{{#each items}}\n- {{title}}{{/each}}",
        LayoutTemplate = layout,
    };

    [Fact]
    public async Task CreateGetEditDeleteRoundTrip()
    {
        var t = await Host.CreateTenantAsync();
        var created = await t.ServerApi.PostAsJsonAsync("/templates/", Welcome()).OkJson();
        var id = created.GetProperty("TemplateId").GetInt32();
        Assert.True(id > 0);
        Assert.Equal("Welcome", created.GetProperty("Name").GetString());
        Assert.True(created.GetProperty("Active").GetBoolean());
        Assert.Equal("welcome", created.GetProperty("Alias").GetString());
        Assert.Equal("Standard", created.GetProperty("TemplateType").GetString());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("LayoutTemplate").ValueKind);

        foreach (var key in new[] { id.ToString(), "welcome", "WELCOME" })
        {
            var got = await t.ServerApi.GetAsync($"/templates/{key}").OkJson();
            Assert.Equal(id, got.GetProperty("TemplateId").GetInt32());
            Assert.Equal("Welcome, {{name}}!", got.GetProperty("Subject").GetString());
            Assert.StartsWith("<p>Hi {{name}}</p>", got.GetProperty("HtmlBody").GetString());
            Assert.Equal(t.Server.ID, got.GetProperty("AssociatedServerId").GetInt32());
            Assert.True(got.GetProperty("Active").GetBoolean());
            Assert.Equal(1, got.GetProperty("Version").GetInt32());
        }

        var edited = await t.ServerApi.PutAsJsonAsync($"/templates/{id}", new { Name = "Welcome 2", Subject = "Hello {{name}}" }).OkJson();
        Assert.Equal("Welcome 2", edited.GetProperty("Name").GetString());
        var after = await t.ServerApi.GetAsync("/templates/welcome").OkJson();
        Assert.Equal("Hello {{name}}", after.GetProperty("Subject").GetString());
        Assert.StartsWith("<p>Hi {{name}}</p>", after.GetProperty("HtmlBody").GetString()); // untouched fields stay

        var deleted = await t.ServerApi.DeleteAsync("/templates/welcome").OkJson();
        Assert.Equal(0, deleted.GetProperty("ErrorCode").GetInt32());
        await t.ServerApi.GetAsync($"/templates/{id}").Error(422, 1101);
    }

    [Fact]
    public async Task ListPagesAndFiltersByTypeAndLayout()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Layout()).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome("a", "base")).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome("b")).OkJson();

        var all = await t.ServerApi.GetAsync("/templates?Count=10&Offset=0").OkJson();
        Assert.Equal(3, all.GetProperty("TotalCount").GetInt32());
        var first = all.GetProperty("Templates")[0];
        foreach (var key in new[] { "Active", "TemplateId", "Name", "Alias", "TemplateType", "LayoutTemplate" })
            Assert.True(first.TryGetProperty(key, out _), key);
        Assert.Equal(3, (await t.ServerApi.GetAsync("/templates?count=10&offset=0&TemplateType=All").OkJson()).GetProperty("TotalCount").GetInt32());
        var layouts = await t.ServerApi.GetAsync("/templates?Count=10&Offset=0&TemplateType=Layout").OkJson();
        Assert.Equal("base", Assert.Single(layouts.GetProperty("Templates").EnumerateArray()).GetProperty("Alias").GetString());
        Assert.Equal(2, (await t.ServerApi.GetAsync("/templates?Count=10&Offset=0&TemplateType=Standard").OkJson()).GetProperty("TotalCount").GetInt32());
        var usingBase = await t.ServerApi.GetAsync("/templates?Count=10&Offset=0&LayoutTemplate=base").OkJson();
        Assert.Equal("a", Assert.Single(usingBase.GetProperty("Templates").EnumerateArray()).GetProperty("Alias").GetString());
        var page = await t.ServerApi.GetAsync("/templates?Count=1&Offset=1").OkJson();
        Assert.Equal(3, page.GetProperty("TotalCount").GetInt32());
        Assert.Equal("a", Assert.Single(page.GetProperty("Templates").EnumerateArray()).GetProperty("Alias").GetString());
    }

    [Theory]
    [InlineData("/templates")]
    [InlineData("/templates?Count=10")]
    [InlineData("/templates?Count=0&Offset=0")]
    [InlineData("/templates?Count=501&Offset=0")]
    [InlineData("/templates?Count=x&Offset=0")]
    [InlineData("/templates?Count=10&Offset=0&TemplateType=Other")]
    public async Task BadListQueriesAre1100(string url)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.GetAsync(url).Error(422, 1100);
    }

    [Theory]
    [InlineData("""{"Subject":"s","HtmlBody":"x"}""", 1120)] // no Name
    [InlineData("""{"Name":"n","Subject":"s"}""", 1120)] // no body
    [InlineData("""{"Name":"n","HtmlBody":"x"}""", 1120)] // Standard without Subject
    [InlineData("""{"Name":"n","TemplateType":"Layout","HtmlBody":"{{{ @content }}}"}""", 1120)] // layout without alias
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"x","Alias":"1abc"}""", 1122)]
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"x","Alias":"a b"}""", 1122)]
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"x","TemplateType":"Partial"}""", 1122)]
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"{{#each xs}}"}""", 1122)] // does not parse
    [InlineData("""{"Name":"n","TemplateType":"Layout","Alias":"l","Subject":"s","HtmlBody":"{{{ @content }}}"}""", 1123)]
    [InlineData("""{"Name":"n","TemplateType":"Layout","Alias":"l","HtmlBody":"{{{ @content }}}","LayoutTemplate":"x"}""", 1123)]
    [InlineData("""{"Name":"n","TemplateType":"Layout","Alias":"l","HtmlBody":"no placeholder"}""", 1131)]
    [InlineData("""{"Name":"n","TemplateType":"Layout","Alias":"l","HtmlBody":"{{{ @content }}}{{{ @content }}}"}""", 1131)]
    [InlineData("""{"Name":"n","TemplateType":"Layout","Alias":"l","HtmlBody":"{{{ @content }}}","TextBody":"none"}""", 1131)]
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"{{{ @content }}}"}""", 1122)] // placeholder outside a layout
    [InlineData("""{"Name":"n","Subject":"s","HtmlBody":"x","LayoutTemplate":"nope"}""", 1101)]
    public async Task CreateRefusesWithPostmarkCodes(string body, int code)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsync("/templates", JsonBody(body)).Error(422, code);
    }

    [Fact]
    public async Task OverlongFieldsAre1121()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", new { Name = new string('n', 256), Subject = "s", TextBody = "x" }).Error(422, 1121);
        await t.ServerApi.PostAsJsonAsync("/templates", new { Name = "n", Subject = new string('s', 2001), TextBody = "x" }).Error(422, 1121);
    }

    [Fact]
    public async Task AliasIsUniquePerServerIgnoringCase()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome("dup")).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome("DUP")).Error(422, 1122);
        var other = await t.AccountApi.PostAsJsonAsync("/servers", new { Name = "Other" }).OkJson();
        var otherApi = Host.ServerClient(other.GetProperty("ApiTokens")[0].GetString()!);
        await otherApi.PostAsJsonAsync("/templates", Welcome("dup")).OkJson(); // another server may use it
    }

    [Fact]
    public async Task TemplateTypeIsFixedAfterCreate()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome()).OkJson();
        await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { TemplateType = "Layout" }).Error(422, 1123);
        await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { TemplateType = "Standard", Name = "Same type is fine" }).OkJson();
    }

    [Fact]
    public async Task EditWithoutDataIs1109AndUnknownIs1101()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome()).OkJson();
        await t.ServerApi.PutAsync("/templates/welcome", JsonBody("{}")).Error(422, 1109);
        await t.ServerApi.PutAsJsonAsync("/templates/missing", new { Name = "x" }).Error(422, 1101);
        await t.ServerApi.PutAsJsonAsync("/templates/99999999999", new { Name = "x" }).Error(422, 1101);
        await t.ServerApi.DeleteAsync("/templates/missing").Error(422, 1101);
    }

    [Fact]
    public async Task LayoutInUseCannotBeDeletedUntilReleased()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Layout()).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome(layout: "base")).OkJson();
        await t.ServerApi.DeleteAsync("/templates/base").Error(422, 1130);
        await t.ServerApi.PutAsJsonAsync("/templates/base", new { Alias = "renamed" }).Error(422, 1130);
        // LayoutTemplate "" clears the layout; then the layout can go.
        var cleared = await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { LayoutTemplate = "" }).OkJson();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("LayoutTemplate").ValueKind);
        await t.ServerApi.DeleteAsync("/templates/base").OkJson();
    }

    [Fact]
    public async Task SubjectOnlyOnStandardTemplates()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Layout()).OkJson();
        await t.ServerApi.PutAsJsonAsync("/templates/base", new { Subject = "no" }).Error(422, 1123);
        await t.ServerApi.PutAsJsonAsync("/templates/base", new { HtmlBody = "<div>none</div>" }).Error(422, 1131);
    }

    [Fact]
    public async Task AServerHoldsAtMostOneHundredTemplates()
    {
        var t = await Host.CreateTenantAsync();
        for (var i = 0; i < 100; i++)
            await t.ServerApi.PostAsJsonAsync("/templates", new { Name = $"t{i}", Subject = "s", TextBody = "x" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", new { Name = "one more", Subject = "s", TextBody = "x" }).Error(422, 1105);
    }

    [Fact]
    public async Task AnotherServersTemplatesAreNotFound()
    {
        var a = await Host.CreateTenantAsync();
        var b = await Host.CreateTenantAsync();
        var created = await a.ServerApi.PostAsJsonAsync("/templates", Layout()).OkJson();
        await a.ServerApi.PostAsJsonAsync("/templates", Welcome()).OkJson();
        var id = created.GetProperty("TemplateId").GetInt32();
        foreach (var key in new[] { id.ToString(), "base", "welcome" })
        {
            await b.ServerApi.GetAsync($"/templates/{key}").Error(422, 1101);
            await b.ServerApi.PutAsJsonAsync($"/templates/{key}", new { Name = "stolen" }).Error(422, 1101);
            await b.ServerApi.DeleteAsync($"/templates/{key}").Error(422, 1101);
            await b.ServerApi.GetAsync($"/templates/{key}/versions").Error(422, 1101);
        }
        Assert.Equal(0, (await b.ServerApi.GetAsync("/templates?Count=10&Offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        // B cannot use A's layout either.
        await b.ServerApi.PostAsJsonAsync("/templates", Welcome(layout: "base")).Error(422, 1101);
        await b.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = "x", LayoutTemplate = "base" }).Error(422, 1101);
        Assert.Equal("Base layout", (await a.ServerApi.GetAsync("/templates/base").OkJson()).GetProperty("Name").GetString());
    }

    [Fact]
    public async Task TemplatesNeedAServerTokenAndPushAnAccountToken()
    {
        var t = await Host.CreateTenantAsync();
        await Host.Client().GetAsync("/templates?Count=1&Offset=0").Error(401, 10);
        await t.AccountApi.GetAsync("/templates?Count=1&Offset=0").Error(401, 10);
        await t.ServerApi.PutAsJsonAsync("/templates/push", new { SourceServerID = 1, DestinationServerID = 2, PerformChanges = false }).Error(401, 10);
    }

    [Fact]
    public async Task EveryEditKeepsTheVersionBeforeAndOneCanBeRestored()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", Welcome()).OkJson();
        await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { Subject = "v2 {{name}}" }).OkJson();
        await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { Subject = "v3 {{name}}", Name = "Third" }).OkJson();
        var versions = await t.ServerApi.GetAsync("/templates/welcome/versions").OkJson();
        Assert.Equal(3, versions.GetProperty("TotalCount").GetInt32());
        var list = versions.GetProperty("Versions").EnumerateArray().ToList();
        Assert.Equal([3, 2, 1], list.Select(v => v.GetProperty("Version").GetInt32()));
        Assert.Equal("Welcome, {{name}}!", list[2].GetProperty("Subject").GetString());
        Assert.Equal("Welcome", list[2].GetProperty("Name").GetString());

        var restored = await t.ServerApi.PostAsync("/templates/welcome/versions/1/restore", null).OkJson();
        Assert.Equal(4, restored.GetProperty("Version").GetInt32());
        Assert.Equal("Welcome, {{name}}!", restored.GetProperty("Subject").GetString());
        Assert.Equal("Welcome", restored.GetProperty("Name").GetString());
        Assert.Equal(4, (await t.ServerApi.GetAsync("/templates/welcome/versions").OkJson()).GetProperty("TotalCount").GetInt32());
        await t.ServerApi.PostAsync("/templates/welcome/versions/9/restore", null).Error(422, 1101);
        await t.ServerApi.PostAsync("/templates/welcome/versions/x/restore", null).Error(422, 1101);
    }
}
