using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using MimeKit;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Templates;

/// <summary>
/// <c>POST /email/withTemplate</c> and <c>/email/batchWithTemplates</c> (spec §2.4): rendered before acceptance,
/// then queued, signed and delivered like any message (to a loopback sink through the smart-host path).
/// </summary>
public sealed class TemplatedSendingTests() : RelayedHostTests()
{
    private static readonly object Model = new
    {
        company = "ACME & Co",
        name = "<Jo>",
        items = new[] { new { title = "Tea" }, new { title = "Cake" } },
    };

    private async Task<Tenant> TenantWithTemplatesAsync()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Layout()).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", TemplatesApiTests.Welcome(layout: "base")).OkJson();
        return t;
    }

    [Fact]
    public async Task SendWithTemplateDeliversTheRenderedMessage()
    {
        var t = await TenantWithTemplatesAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/email/withTemplate", new
        {
            From = "app@mailroom.test",
            To = "jo@example.net",
            TemplateAlias = "welcome",
            TemplateModel = Model,
            Tag = "welcome",
            Metadata = new Dictionary<string, string> { ["user"] = "7" },
        }).OkJson();
        Assert.Equal(0, r.GetProperty("ErrorCode").GetInt32());
        Assert.Equal("OK", r.GetProperty("Message").GetString());
        var id = Guid.Parse(r.GetProperty("MessageID").GetString()!);
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());

        var got = Assert.Single(Sink.Messages);
        Assert.Equal(["jo@example.net"], got.Recipients);
        var mime = MimeMessage.Load(new MemoryStream(got.Data));
        Assert.Equal("Welcome, <Jo>!", mime.Subject); // subjects are not HTML-escaped
        Assert.Equal("<html><body><h1>ACME &amp; Co</h1><p>Hi &lt;Jo&gt;</p><ul><li>Tea</li><li>Cake</li></ul></body></html>", mime.HtmlBody!.TrimEnd());
        Assert.Equal("ACME & Co\nHi <Jo>\n- Tea\n- Cake\n--", mime.TextBody!.ReplaceLineEndings("\n").TrimEnd());
        Assert.True(mime.Headers.Contains("DKIM-Signature"));
        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Equal("welcome", details.GetProperty("Tag").GetString());
        Assert.Equal("Welcome, <Jo>!", details.GetProperty("Subject").GetString());
        // Mailroom's extension: the template and version the message was rendered from.
        var template = await t.ServerApi.GetAsync("/templates/welcome").OkJson();
        Assert.Equal(template.GetProperty("TemplateId").GetInt32(), details.GetProperty("TemplateId").GetInt32());
        Assert.Equal(1, details.GetProperty("TemplateVersion").GetInt32());
    }

    [Fact]
    public async Task DetailsNameTheVersionAMessageWasRenderedFrom()
    {
        var t = await TenantWithTemplatesAsync();
        await t.ServerApi.PutAsJsonAsync("/templates/welcome", new { Subject = "v2 {{name}}" }).OkJson();
        var r = await t.ServerApi.PostAsJsonAsync("/email/batchWithTemplates", new
        {
            Messages = new[] { new { From = "app@mailroom.test", To = "jo@example.net", TemplateAlias = "welcome", TemplateModel = Model } },
        }).OkJson();
        var id = r[0].GetProperty("MessageID").GetString();
        var details = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        Assert.Equal(2, details.GetProperty("TemplateVersion").GetInt32());
        Assert.Equal("v2 <Jo>", details.GetProperty("Subject").GetString());
        var plain = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "s", TextBody = "x" }).OkJson();
        var plainDetails = await t.ServerApi.GetAsync($"/messages/outbound/{plain.GetProperty("MessageID").GetString()}/details").OkJson();
        Assert.Equal(JsonValueKind.Null, plainDetails.GetProperty("TemplateId").ValueKind);
    }

    [Fact]
    public async Task TemplateIdWinsOverAliasAndCssIsInlinedByDefault()
    {
        var t = await Host.CreateTenantAsync();
        var styled = await t.ServerApi.PostAsJsonAsync("/templates", new
        {
            Name = "Styled", Subject = "s", HtmlBody = "<html><head><style>p { color: red; }</style></head><body><p>{{x}}</p></body></html>",
        }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/templates", new { Name = "Other", Alias = "other", Subject = "other", TextBody = "other" }).OkJson();
        var id = styled.GetProperty("TemplateId").GetInt32();
        await t.ServerApi.PostAsJsonAsync("/email/withTemplate", new { From = "app@mailroom.test", To = "a@example.net", TemplateId = id, TemplateAlias = "other", TemplateModel = new { x = "y" } }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/email/withTemplate", new { From = "app@mailroom.test", To = "b@example.net", TemplateId = id, TemplateModel = new { x = "y" }, InlineCss = false }).OkJson();
        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().OrderBy(m => m.ReceivedAt).ToListAsync());
        var html = stored.Select(m => MimeMessage.Load(new MemoryStream(m.Mime!)).HtmlBody ?? "").ToList();
        Assert.Equal(2, html.Count);
        Assert.Contains("style=\"color: red", html.Single(h => h.Contains("style=\"color")));
        Assert.Single(html, h => h.Contains("<p>y</p>"));
        Assert.All(stored, m => Assert.Equal("s", m.Subject));
    }

    [Theory]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateModel":{}}""", 1101)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"nope","TemplateModel":{}}""", 1101)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateId":999999,"TemplateModel":{}}""", 1101)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome"}""", 1109)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":[1]}""", 1122)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":{"items":"x"}}""", 1122)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":{},"Subject":"s"}""", 1123)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":{},"HtmlBody":"h"}""", 1123)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":{},"TextBody":"t"}""", 1123)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"base","TemplateModel":{}}""", 1123)]
    [InlineData("""{"From":"app@mailroom.test","To":"","TemplateAlias":"welcome","TemplateModel":{}}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TemplateAlias":"welcome","TemplateModel":{},"MessageStream":"nope"}""", 1235)]
    public async Task RefusalsComeBeforeAnythingIsQueued(string body, int code)
    {
        var t = await TenantWithTemplatesAsync();
        await t.ServerApi.PostAsync("/email/withTemplate", JsonBody(body)).Error(422, code);
        Assert.Equal(0, await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.CountAsync()));
    }

    [Fact]
    public async Task AnotherServersTemplateCannotBeUsed()
    {
        var a = await TenantWithTemplatesAsync();
        var b = await Host.CreateTenantAsync();
        var id = (await a.ServerApi.GetAsync("/templates/welcome").OkJson()).GetProperty("TemplateId").GetInt32();
        await b.ServerApi.PostAsJsonAsync("/email/withTemplate", new { From = "app@mailroom.test", To = "a@example.net", TemplateId = id, TemplateModel = Model }).Error(422, 1101);
        await b.ServerApi.PostAsJsonAsync("/email/withTemplate", new { From = "app@mailroom.test", To = "a@example.net", TemplateAlias = "welcome", TemplateModel = Model }).Error(422, 1101);
        var batch = await b.ServerApi.PostAsJsonAsync("/email/batchWithTemplates", new { Messages = new[] { new { From = "app@mailroom.test", To = "a@example.net", TemplateId = id, TemplateModel = Model } } }).OkJson();
        Assert.Equal(1101, batch[0].GetProperty("ErrorCode").GetInt32());
    }

    [Fact]
    public async Task BatchAnswersEachMessageInOrder()
    {
        var t = await TenantWithTemplatesAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/email/batchWithTemplates", new
        {
            Messages = new object[]
            {
                new { From = "app@mailroom.test", To = "one@example.net", TemplateAlias = "welcome", TemplateModel = new { name = "One" } },
                new { From = "app@mailroom.test", To = "two@example.net", TemplateAlias = "missing", TemplateModel = new { name = "Two" } },
                new { From = "app@mailroom.test", To = "three@example.net", TemplateAlias = "welcome", TemplateModel = new { items = 3 } },
                new { From = "app@mailroom.test", To = "four@example.net", TemplateAlias = "WELCOME", TemplateModel = new { name = "Four" } },
            },
        }).OkJson();
        var items = r.EnumerateArray().ToList();
        Assert.Equal(4, items.Count);
        Assert.Equal("one@example.net", items[0].GetProperty("To").GetString());
        Assert.Equal(1101, items[1].GetProperty("ErrorCode").GetInt32());
        Assert.False(items[1].TryGetProperty("MessageID", out _));
        Assert.Equal(1122, items[2].GetProperty("ErrorCode").GetInt32());
        Assert.Equal("four@example.net", items[3].GetProperty("To").GetString());
        var subjects = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().Select(m => m.Subject).ToListAsync());
        Assert.Equal(["Welcome, Four!", "Welcome, One!"], subjects.Order());
    }

    [Fact]
    public async Task BatchRefusesEmptyAndOverFiveHundred()
    {
        var t = await TenantWithTemplatesAsync();
        await t.ServerApi.PostAsync("/email/batchWithTemplates", JsonBody("""{"Messages":[]}""")).Error(422, 300);
        var many = Enumerable.Range(0, 501).Select(_ => new { From = "app@mailroom.test", To = "a@example.net", TemplateAlias = "welcome", TemplateModel = new { } }).ToArray();
        await t.ServerApi.PostAsJsonAsync("/email/batchWithTemplates", new { Messages = many }).Error(422, 410);
    }
}
