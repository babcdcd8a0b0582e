using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Templates;

/// <summary><c>POST /templates/validate</c> and <c>PUT /templates/push</c> (spec §11).</summary>
public sealed class TemplateValidateAndPushTests : HostTests
{
    [Fact]
    public async Task ValidateRendersEachPartAndSuggestsAModel()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/templates/validate", new
        {
            Subject = "Hi {{name}}",
            HtmlBody = "<p>{{name}}</p>{{#each items}}<i>{{title}}</i>{{/each}}{{#company}}{{company.name}}{{/company}}",
            TextBody = "{{name}}: {{#each tags}}{{.}},{{/each}}",
            TestRenderModel = new { name = "<Ann>", items = new[] { new { title = "A" } }, tags = new[] { "x", "y" } },
        }).OkJson();
        Assert.True(r.GetProperty("AllContentIsValid").GetBoolean());
        Assert.Equal("Hi <Ann>", r.GetProperty("Subject").GetProperty("RenderedContent").GetString());
        Assert.Equal("<p>&lt;Ann&gt;</p><i>A</i>", r.GetProperty("HtmlBody").GetProperty("RenderedContent").GetString());
        Assert.Equal("<Ann>: x,y,", r.GetProperty("TextBody").GetProperty("RenderedContent").GetString());
        foreach (var part in new[] { "Subject", "HtmlBody", "TextBody" })
        {
            Assert.True(r.GetProperty(part).GetProperty("ContentIsValid").GetBoolean());
            Assert.Equal(0, r.GetProperty(part).GetProperty("ValidationErrors").GetArrayLength());
        }
        Assert.Equal(
            """{"name":"name_Value","items":[{"title":"title_Value"}],"company":{"company":{"name":"name_Value"}},"tags":["tags_1","tags_2","tags_3"]}""",
            r.GetProperty("SuggestedTemplateModel").GetRawText());
    }

    [Fact]
    public async Task ValidateListsErrorsWithLineAndCharacter()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/templates/validate", new
        {
            Subject = "fine {{x}}",
            HtmlBody = "<p>\n  {{#each items}}\n</p>",
            TextBody = "{{/nope}}",
        }).OkJson();
        Assert.False(r.GetProperty("AllContentIsValid").GetBoolean());
        Assert.True(r.GetProperty("Subject").GetProperty("ContentIsValid").GetBoolean());
        var html = r.GetProperty("HtmlBody");
        Assert.False(html.GetProperty("ContentIsValid").GetBoolean());
        Assert.Equal(JsonValueKind.Null, html.GetProperty("RenderedContent").ValueKind);
        var e = Assert.Single(html.GetProperty("ValidationErrors").EnumerateArray());
        Assert.Equal(2, e.GetProperty("Line").GetInt32());
        Assert.Equal(3, e.GetProperty("CharacterPosition").GetInt32());
        Assert.Contains("items", e.GetProperty("Message").GetString());
        Assert.False(r.GetProperty("TextBody").GetProperty("ContentIsValid").GetBoolean());
    }

    [Fact]
    public async Task ValidateWithoutAModelRendersTheSuggestedOne()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/templates/validate", new { Subject = "Hi {{ person.name }}" }).OkJson();
        Assert.Equal("Hi name_Value", r.GetProperty("Subject").GetProperty("RenderedContent").GetString());
    }

    [Fact]
    public async Task ValidateReportsAModelThatDoesNotFit()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/templates/validate", new
        {
            TextBody = "{{#each xs}}{{.}}{{/each}}",
            TestRenderModel = new { xs = "not an array" },
        }).OkJson();
        Assert.False(r.GetProperty("AllContentIsValid").GetBoolean());
        Assert.Contains("used like an array", r.GetProperty("TextBody").GetProperty("ValidationErrors")[0].GetProperty("Message").GetString());
    }

    [Fact]
    public async Task ValidateInlinesCssUnlessAskedNotTo()
    {
        var t = await Host.CreateTenantAsync();
        const string html = "<html><head><style>p { color: red; }</style></head><body><p>{{x}}</p></body></html>";
        var inlined = await t.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = html, TestRenderModel = new { x = "y" } }).OkJson();
        Assert.Contains("<p style=\"color: red", inlined.GetProperty("HtmlBody").GetProperty("RenderedContent").GetString());
        var raw = await t.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = html, TestRenderModel = new { x = "y" }, InlineCssForHtmlTestRender = false }).OkJson();
        Assert.Contains("<p>y</p>", raw.GetProperty("HtmlBody").GetProperty("RenderedContent").GetString());
    }

    [Fact]
    public async Task ValidateRendersInsideALayoutAndChecksLayouts()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Layout()).OkJson();
        var r = await t.ServerApi.PostAsJsonAsync("/templates/validate", new
        {
            HtmlBody = "<p>{{name}}</p>",
            LayoutTemplate = "base",
            TestRenderModel = new { company = "ACME", name = "Bo" },
            InlineCssForHtmlTestRender = false,
        }).OkJson();
        Assert.Equal("<html><body><h1>ACME</h1><p>Bo</p></body></html>", r.GetProperty("HtmlBody").GetProperty("RenderedContent").GetString());
        Assert.Equal("""{"name":"name_Value","company":"company_Value"}""", r.GetProperty("SuggestedTemplateModel").GetRawText());

        var layout = await t.ServerApi.PostAsJsonAsync("/templates/validate", new { TemplateType = "Layout", HtmlBody = "<div>no content</div>" }).OkJson();
        Assert.False(layout.GetProperty("HtmlBody").GetProperty("ContentIsValid").GetBoolean());
        var good = await t.ServerApi.PostAsJsonAsync("/templates/validate", new { TemplateType = "Layout", HtmlBody = "<div>{{{ @content }}}</div>" }).OkJson();
        Assert.True(good.GetProperty("AllContentIsValid").GetBoolean());
    }

    [Fact]
    public async Task ValidateRefusals()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsync("/templates/validate", JsonBody("{}")).Error(422, 1109);
        await t.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = "x", TemplateType = "Odd" }).Error(422, 1122);
        await t.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = "x", TestRenderModel = new[] { 1 } }).Error(422, 1122);
        await t.ServerApi.PostAsJsonAsync("/templates/validate", new { HtmlBody = "x", LayoutTemplate = "none" }).Error(422, 1101);
        await t.ServerApi.PostAsJsonAsync("/templates/validate", new { Subject = "s", TemplateType = "Layout" }).Error(422, 1123);
    }

    private async Task<(Tenant A, int BId, HttpClient B)> TwoServersAsync()
    {
        var a = await Host.CreateTenantAsync();
        var b = await a.AccountApi.PostAsJsonAsync("/servers", new { Name = "Staging" }).OkJson();
        return (a, b.GetProperty("ID").GetInt32(), Host.ServerClient(b.GetProperty("ApiTokens")[0].GetString()!));
    }

    [Fact]
    public async Task PushDryRunListsChangesAndChangesNothing()
    {
        var (a, bId, b) = await TwoServersAsync();
        await a.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Layout()).OkJson();
        await a.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Welcome(layout: "base")).OkJson();
        await a.ServerApi.PostAsJsonAsync("/templates", new { Name = "No alias", Subject = "s", TextBody = "x" }).OkJson();
        await b.PostAsJsonAsync("/templates", new { Name = "Old welcome", Alias = "welcome", Subject = "old", TextBody = "old" }).OkJson();
        var bWelcome = (await b.GetAsync("/templates/welcome").OkJson()).GetProperty("TemplateId").GetInt32();

        var dry = await a.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = bId, PerformChanges = false }).OkJson();
        Assert.Equal(2, dry.GetProperty("TotalCount").GetInt32());
        var items = dry.GetProperty("Templates").EnumerateArray().ToList();
        Assert.Equal("Create", items[0].GetProperty("Action").GetString());
        Assert.Equal("base", items[0].GetProperty("Alias").GetString());
        Assert.Equal("Layout", items[0].GetProperty("TemplateType").GetString());
        Assert.Equal("Edit", items[1].GetProperty("Action").GetString());
        Assert.Equal("welcome", items[1].GetProperty("Alias").GetString());
        Assert.Equal(bWelcome, items[1].GetProperty("TemplateId").GetInt32());
        Assert.Equal(1, (await b.GetAsync("/templates?Count=10&Offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        Assert.Equal("old", (await b.GetAsync("/templates/welcome").OkJson()).GetProperty("Subject").GetString());
    }

    [Fact]
    public async Task PushCreatesAndEditsByAliasThenHasNothingLeftToChange()
    {
        var (a, bId, b) = await TwoServersAsync();
        await a.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Layout()).OkJson();
        await a.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Welcome(layout: "base")).OkJson();
        await b.PostAsJsonAsync("/templates", new { Name = "Old welcome", Alias = "welcome", Subject = "old", TextBody = "old" }).OkJson();
        var body = new { SourceServerID = a.Server.ID, DestinationServerID = bId, PerformChanges = true };

        var pushed = await a.AccountApi.PutAsJsonAsync("/templates/push", body).OkJson();
        Assert.Equal(["Create", "Edit"], pushed.GetProperty("Templates").EnumerateArray().Select(i => i.GetProperty("Action").GetString()));
        var welcome = await b.GetAsync("/templates/welcome").OkJson();
        Assert.Equal("Welcome, {{name}}!", welcome.GetProperty("Subject").GetString());
        Assert.Equal("base", welcome.GetProperty("LayoutTemplate").GetString());
        Assert.Equal(bId, welcome.GetProperty("AssociatedServerId").GetInt32());
        Assert.Equal(2, welcome.GetProperty("Version").GetInt32()); // the edit kept the old version
        var layout = await b.GetAsync("/templates/base").OkJson();
        Assert.Equal("Layout", layout.GetProperty("TemplateType").GetString());

        var again = await a.AccountApi.PutAsJsonAsync("/templates/push", body).OkJson();
        Assert.Equal(0, again.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task PushRefusals()
    {
        var (a, bId, b) = await TwoServersAsync();
        var other = await Host.CreateTenantAsync();
        await a.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = bId, PerformChanges = true }).Error(422, 1124);
        await a.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Layout("same")).OkJson();
        await b.PostAsJsonAsync("/templates", TemplatesApiTests.Welcome("same")).OkJson();
        await a.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = bId, PerformChanges = false }).Error(422, 1125);
        await a.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = bId }).Error(422, 1120);
        await a.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = a.Server.ID, PerformChanges = false }).Error(422, 1123);
        // Another account's server is not found, as source or destination: B's account cannot read or fill A's templates.
        await other.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = a.Server.ID, DestinationServerID = other.Server.ID, PerformChanges = true }).Error(422, 601);
        await other.AccountApi.PutAsJsonAsync("/templates/push", new { SourceServerID = other.Server.ID, DestinationServerID = a.Server.ID, PerformChanges = true }).Error(422, 601);
        Assert.Equal(0, (await other.ServerApi.GetAsync("/templates?Count=10&Offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
    }
}
