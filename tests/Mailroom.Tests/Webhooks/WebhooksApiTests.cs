namespace Mailroom.Tests.Webhooks;

/// <summary>Webhooks API (spec §10.1–10.3): the object, partial edits, the 422 codes, secrets at rest, tenant isolation.</summary>
public sealed class WebhooksApiTests : HostTests
{
    private static object Hook(string url = "https://hooks.example.com/pm", string? stream = null) => new
    {
        Url = url,
        MessageStream = stream,
        HttpAuth = new { Username = "user", Password = "s3cret-pass" },
        HttpHeaders = new[] { new { Name = "X-Customer", Value = "abc" } },
        Triggers = new
        {
            Delivery = new { Enabled = true },
            Bounce = new { Enabled = true, IncludeContent = true },
            SubscriptionChange = new { Enabled = true },
        },
    };

    [Fact]
    public async Task CreateReturnsEveryFieldAndEveryTriggerAndGetListAgree()
    {
        var t = await Host.CreateTenantAsync();
        var created = await t.ServerApi.PostAsJsonAsync("/webhooks", Hook()).OkJson();
        var id = created.GetProperty("ID").GetInt32();
        Assert.True(id > 0);
        Assert.Equal("https://hooks.example.com/pm", created.GetProperty("Url").GetString());
        Assert.Equal("outbound", created.GetProperty("MessageStream").GetString());
        Assert.Equal("user", created.GetProperty("HttpAuth").GetProperty("Username").GetString());
        Assert.Equal("s3cret-pass", created.GetProperty("HttpAuth").GetProperty("Password").GetString());
        Assert.Equal("X-Customer", created.GetProperty("HttpHeaders")[0].GetProperty("Name").GetString());
        Assert.StartsWith("whsec_", created.GetProperty("SigningSecret").GetString());
        var triggers = created.GetProperty("Triggers");
        Assert.False(triggers.GetProperty("Open").GetProperty("Enabled").GetBoolean());
        Assert.False(triggers.GetProperty("Open").GetProperty("PostFirstOpenOnly").GetBoolean());
        Assert.False(triggers.GetProperty("Click").GetProperty("Enabled").GetBoolean());
        Assert.True(triggers.GetProperty("Delivery").GetProperty("Enabled").GetBoolean());
        Assert.True(triggers.GetProperty("Bounce").GetProperty("Enabled").GetBoolean());
        Assert.True(triggers.GetProperty("Bounce").GetProperty("IncludeContent").GetBoolean());
        Assert.False(triggers.GetProperty("SpamComplaint").GetProperty("Enabled").GetBoolean());
        Assert.False(triggers.GetProperty("SpamComplaint").GetProperty("IncludeContent").GetBoolean());
        Assert.True(triggers.GetProperty("SubscriptionChange").GetProperty("Enabled").GetBoolean());

        var got = await t.ServerApi.GetAsync($"/webhooks/{id}").OkJson();
        Assert.False(got.TryGetProperty("SigningSecret", out _)); // shown at create and rotate only
        Assert.Equal(created.GetProperty("Triggers").GetRawText(), got.GetProperty("Triggers").GetRawText());
        var list = await t.ServerApi.GetAsync("/webhooks").OkJson();
        Assert.Equal([id], list.GetProperty("Webhooks").EnumerateArray().Select(w => w.GetProperty("ID").GetInt32()));
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://b.example.com/", MessageStream = "broadcast" }).OkJson();
        var filtered = await t.ServerApi.GetAsync("/webhooks?MessageStream=broadcast").OkJson();
        Assert.Equal(["broadcast"], filtered.GetProperty("Webhooks").EnumerateArray().Select(w => w.GetProperty("MessageStream").GetString()));
        Assert.Equal(2, (await t.ServerApi.GetAsync("/webhooks").OkJson()).GetProperty("Webhooks").GetArrayLength());
    }

    [Fact]
    public async Task PasswordAndSecretAreEncryptedAtRest()
    {
        var t = await Host.CreateTenantAsync();
        var created = await t.ServerApi.PostAsJsonAsync("/webhooks", Hook()).OkJson();
        var row = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Webhooks.AsNoTracking().SingleAsync());
        Assert.DoesNotContain("s3cret-pass", row.HttpAuthPasswordProtected);
        Assert.DoesNotContain(created.GetProperty("SigningSecret").GetString()!, row.SecretProtected);
    }

    [Fact]
    public async Task PartialEditChangesOnlyTheTriggersGiven()
    {
        var t = await Host.CreateTenantAsync();
        var id = (await t.ServerApi.PostAsJsonAsync("/webhooks", Hook()).OkJson()).GetProperty("ID").GetInt32();
        var edited = await t.ServerApi.PutAsJsonAsync($"/webhooks/{id}", new { Triggers = new { Bounce = new { IncludeContent = false }, SpamComplaint = new { Enabled = true } } }).OkJson();
        var tr = edited.GetProperty("Triggers");
        Assert.True(tr.GetProperty("Bounce").GetProperty("Enabled").GetBoolean());
        Assert.False(tr.GetProperty("Bounce").GetProperty("IncludeContent").GetBoolean());
        Assert.True(tr.GetProperty("SpamComplaint").GetProperty("Enabled").GetBoolean());
        Assert.True(tr.GetProperty("Delivery").GetProperty("Enabled").GetBoolean());
        Assert.Equal("https://hooks.example.com/pm", edited.GetProperty("Url").GetString());
        Assert.Equal("s3cret-pass", edited.GetProperty("HttpAuth").GetProperty("Password").GetString());
        var moved = await t.ServerApi.PutAsJsonAsync($"/webhooks/{id}", new { Url = "https://other.example.com/x" }).OkJson();
        Assert.Equal("https://other.example.com/x", moved.GetProperty("Url").GetString());
        await t.ServerApi.PutAsJsonAsync($"/webhooks/{id}", new { ID = id + 1 }).Error(422, 1357);
        await t.ServerApi.PutAsJsonAsync($"/webhooks/{id}", new { MessageStream = "broadcast" }).Error(422, 1357);
    }

    [Fact]
    public async Task DeleteRemovesAndUnknownIdsAnswer1352()
    {
        var t = await Host.CreateTenantAsync();
        var id = (await t.ServerApi.PostAsJsonAsync("/webhooks", Hook()).OkJson()).GetProperty("ID").GetInt32();
        var done = await t.ServerApi.DeleteAsync($"/webhooks/{id}").OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        await t.ServerApi.GetAsync($"/webhooks/{id}").Error(422, 1352);
        await t.ServerApi.DeleteAsync($"/webhooks/{id}").Error(422, 1352);
        await t.ServerApi.GetAsync("/webhooks/abc").Error(422, 1352);
        await t.ServerApi.PutAsJsonAsync("/webhooks/99999999999", new { Url = "https://x.example.com/" }).Error(422, 1352);
    }

    [Fact]
    public async Task CreateRefusesWhatSpecSection10_3Lists()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { }).Error(422, 1354);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "ftp://x.example.com/" }).Error(422, 1354);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "not a url" }).Error(422, 1354);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { ID = 5, Url = "https://x.example.com/" }).Error(422, 1356);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://x.example.com/", MessageStream = "inbound" }).Error(422, 1351);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://x.example.com/", HttpHeaders = new[] { new { Name = "Bad Name", Value = "v" } } }).Error(422, 1358);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://x.example.com/", HttpHeaders = new[] { new { Name = "Authorization", Value = "v" } } }).Error(422, 1358);
        // Open and Click triggers are accepted now that opens and clicks are tracked (tests/Mailroom.Tests/Tracking).
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "old", Name = "Old", MessageStreamType = "Broadcasts" }).OkJson();
        await t.ServerApi.PostAsync("/message-streams/old/archive", null).OkJson();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://x.example.com/", MessageStream = "old" }).Error(422, 1350);
        for (var i = 0; i < 10; i++)
            await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = $"https://x{i}.example.com/" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://x11.example.com/" }).Error(422, 1359);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://100.64.0.1/")]
    [InlineData("http://localhost/")]
    public async Task RefusedLiteralDestinationsAreRefusedAtCreateWithAClearMessage(string url)
    {
        var t = await Host.CreateTenantAsync();
        var e = await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = url }).Error(422, 1354);
        Assert.Contains("may not", e);
    }

    [Fact]
    public async Task ANameThatDoesNotResolveYetIsAccepted() =>
        await (await Host.CreateTenantAsync()).ServerApi.PostAsJsonAsync("/webhooks", new { Url = "https://not-yet.example.invalid/hook" }).OkJson();

    [Fact]
    public async Task ServerBCannotSeeOrEditServerAsWebhooks()
    {
        var a = await Host.CreateTenantAsync("A");
        var b = await Host.CreateTenantAsync("B");
        var id = (await a.ServerApi.PostAsJsonAsync("/webhooks", Hook()).OkJson()).GetProperty("ID").GetInt32();
        await b.ServerApi.GetAsync($"/webhooks/{id}").Error(422, 1352);
        await b.ServerApi.PutAsJsonAsync($"/webhooks/{id}", new { Url = "https://evil.example.com/" }).Error(422, 1352);
        await b.ServerApi.DeleteAsync($"/webhooks/{id}").Error(422, 1352);
        await b.ServerApi.PostAsync($"/webhooks/{id}/secret/rotate", null).Error(422, 1352);
        await b.ServerApi.GetAsync($"/webhooks/{id}/attempts").Error(422, 1352);
        Assert.Equal(0, (await b.ServerApi.GetAsync("/webhooks").OkJson()).GetProperty("Webhooks").GetArrayLength());
        Assert.Equal("https://hooks.example.com/pm", (await a.ServerApi.GetAsync($"/webhooks/{id}").OkJson()).GetProperty("Url").GetString());
    }
}
