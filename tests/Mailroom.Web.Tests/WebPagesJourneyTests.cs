using System.Text.Json;
using System.Text.RegularExpressions;
using MailKit.Net.Smtp;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace Mailroom.Web.Tests;

/// <summary>The webhooks, templates, stats and inbound pages in a real browser against a real <c>mailroom serve</c>,
/// each checked against the API it shares its services with; axe-core on every page.</summary>
public sealed class WebPagesJourneyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    private HttpClient ServerApi(string token)
    {
        var api = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) };
        api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
        return api;
    }

    /// <summary>The signed-in session of <paramref name="signedIn"/> in a context that enforces the app's CSP (the
    /// fixture's pages bypass it to inject axe-core), with every CSP refusal and script error collected.</summary>
    private async Task<(IPage Page, List<string> Errors)> EnforcingCspAsync(IPage signedIn)
    {
        var context = await app.Browser.NewContextAsync(new() { BaseURL = app.Server.BaseUrl, StorageState = await signedIn.Context.StorageStateAsync() });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(90_000);
        var errors = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error" && (m.Text.Contains("Content Security Policy", StringComparison.Ordinal) || m.Text.Contains("Refused", StringComparison.Ordinal)))
                lock (errors) errors.Add(m.Text);
        };
        page.PageError += (_, e) => { lock (errors) errors.Add(e); };
        return (page, errors);
    }

    [Fact]
    public async Task AWebhookMadeInTheFormIsListedAndInTheApiAndShowsItsDeliveryAttempt()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Hooks");
        using var api = ServerApi(token);
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync($"/app/servers/{serverId}/webhooks");
        await app.AssertAccessibleAsync(page);

        // A URL the service refuses: its message comes back in the form, with what was typed.
        await page.GetByLabel("URL").FillAsync("ftp://files.example/hook");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Invalid 'Url'");
        await Expect(page.GetByLabel("URL")).ToHaveValueAsync("ftp://files.example/hook");

        var path = "/hook-" + app.Unique("w");
        var url = app.Receiver.BaseUrl + path;
        await page.GetByLabel("URL").FillAsync(url);
        await page.GetByLabel("Open", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("User name").FillAsync("hookuser");
        await page.GetByLabel("Password").FillAsync("hookpass");
        await page.GetByLabel("Custom headers").FillAsync("X-Team: ops");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        var secret = (await page.Locator("code.signing-secret").InnerTextAsync()).Trim();
        Assert.StartsWith("whsec_", secret);
        await Expect(page.Locator("tr.webhook")).ToHaveCountAsync(1);
        await Expect(page.Locator("tr.webhook")).ToContainTextAsync("Delivery, Bounce, Open");
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "webhooks");

        // The API sees the same webhook, with every field the form set.
        var list = await api.GetFromJsonAsync<JsonElement>("/webhooks");
        var hook = list.GetProperty("Webhooks").EnumerateArray().Single();
        Assert.Equal(url, hook.GetProperty("Url").GetString());
        Assert.Equal("outbound", hook.GetProperty("MessageStream").GetString());
        Assert.True(hook.GetProperty("Triggers").GetProperty("Open").GetProperty("Enabled").GetBoolean());
        Assert.True(hook.GetProperty("Triggers").GetProperty("Delivery").GetProperty("Enabled").GetBoolean());
        Assert.False(hook.GetProperty("Triggers").GetProperty("Click").GetProperty("Enabled").GetBoolean());
        Assert.Equal("hookuser", hook.GetProperty("HttpAuth").GetProperty("Username").GetString());
        Assert.Equal("ops", hook.GetProperty("HttpHeaders")[0].GetProperty("Value").GetString());
        var hookId = hook.GetProperty("ID").GetInt32();

        // A message delivered to the sink: its Delivery event is posted, signed, and the attempt shows on the webhook's page.
        var sent = await api.PostAsJsonAsync("/email", new { From = "shop@mailroom.test", To = "hooked@customer.example", Subject = "Hooked", TextBody = "Hi." });
        Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        await Eventually.True(() => Task.FromResult(app.Receiver.At(path).Count > 0), 60, "the Delivery webhook is posted\n" + app.Server.Output);
        Assert.Contains("v1=", app.Receiver.At(path)[0].Headers["X-Mailroom-Signature"]);
        await page.GotoAsync($"/app/servers/{serverId}/webhooks/{hookId}");
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("table.attempts td", new() { HasText = "Delivery" }).CountAsync() > 0;
        }, 30, "the attempt on the webhook's page");
        await Expect(page.Locator("table.attempts tbody tr").First).ToContainTextAsync("200");

        // Edit: Open off; the password left blank keeps the stored one.
        await page.GetByLabel("Open", new() { Exact = true }).UncheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save webhook" }).ClickAsync();
        await Expect(page.GetByText("Webhook saved.")).ToBeVisibleAsync();
        var edited = await api.GetFromJsonAsync<JsonElement>($"/webhooks/{hookId}");
        Assert.False(edited.GetProperty("Triggers").GetProperty("Open").GetProperty("Enabled").GetBoolean());
        Assert.Equal("hookpass", edited.GetProperty("HttpAuth").GetProperty("Password").GetString());
        await page.GetByRole(AriaRole.Button, new() { Name = "Rotate signing secret" }).ClickAsync();
        var rotated = (await page.Locator("code.signing-secret").InnerTextAsync()).Trim();
        Assert.StartsWith("whsec_", rotated);
        Assert.NotEqual(secret, rotated);
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "webhook");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete webhook" }).ClickAsync();
        await Expect(page.GetByText($"Webhook {hookId} deleted.")).ToBeVisibleAsync();
        Assert.Empty((await api.GetFromJsonAsync<JsonElement>("/webhooks")).GetProperty("Webhooks").EnumerateArray());
    }

    [Fact]
    public async Task EditingATemplateShowsThePreviewRenderedWithTheModelWithAndWithoutScript()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Templates");
        using var api = ServerApi(token);
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync($"/app/servers/{serverId}/templates");
        await app.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "New template" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Welcome");
        await page.GetByLabel("Alias").FillAsync("welcome-web");
        await page.GetByLabel("Subject").FillAsync("Hi {{name}}");
        await page.GetByLabel("Test model (JSON)").FillAsync("{\"name\": \"Ada\", \"product_name\": \"Mailroom\"}");
        await page.GetByLabel("HTML body").FillAsync("<p>Hello <b>{{name}}</b>, welcome to {{product_name}}.</p>");

        // Live: the script posts the draft and the model; the iframe loads the rendering from its sandboxed URL.
        await Expect(page.FrameLocator("#preview-html").Locator("b")).ToHaveTextAsync("Ada");
        await Expect(page.Locator("#preview-subject")).ToHaveTextAsync("Hi Ada");
        Assert.Equal("", await page.Locator("#preview-html").GetAttributeAsync("sandbox"));
        var src = await page.Locator("#preview-html").GetAttributeAsync("src");
        var framed = await page.Context.APIRequest.GetAsync(src!);
        Assert.StartsWith("sandbox", framed.Headers["content-security-policy"]);

        // The same under the app's own CSP: the script and the framed preview run with no violation.
        var (strict, errors) = await EnforcingCspAsync(page);
        await strict.GotoAsync($"/app/servers/{serverId}/templates/new");
        await strict.GetByLabel("Test model (JSON)").FillAsync("{\"name\": \"Lin\", \"product_name\": \"Mailroom\"}");
        await Expect(strict.FrameLocator("#preview-html").Locator("h1")).ToHaveTextAsync("Hello Lin");
        await strict.Context.CloseAsync();
        Assert.Empty(errors);

        // A syntax error is shown with its place.
        await page.GetByLabel("HTML body").FillAsync("<p>Hello {{#each}}</p>");
        await Expect(page.Locator("#preview-errors")).ToContainTextAsync("HTML body");
        await page.GetByLabel("HTML body").FillAsync("<p>Hello <b>{{name}}</b>, welcome to {{product_name}}.</p>");
        await Expect(page.Locator("#preview-errors")).ToBeHiddenAsync();
        await Expect(page.FrameLocator("#preview-html").Locator("b")).ToHaveTextAsync("Ada");
        await WebAppFixture.ScreenshotAsync(page, "template");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save template" }).ClickAsync();
        await Expect(page.GetByText("Template 'Welcome' saved.")).ToBeVisibleAsync();
        var stored = await api.GetFromJsonAsync<JsonElement>("/templates/welcome-web");
        Assert.Equal("Hi {{name}}", stored.GetProperty("Subject").GetString());
        Assert.Contains("<b>{{name}}</b>", stored.GetProperty("HtmlBody").GetString());
        var templateId = stored.GetProperty("TemplateId").GetInt32();
        await app.AssertAccessibleAsync(page);

        // Without script: the Preview button posts the form and the page comes back with the rendering.
        var context = await app.Browser.NewContextAsync(new() { BaseURL = app.Server.BaseUrl, JavaScriptEnabled = false,
            StorageState = await page.Context.StorageStateAsync() });
        var plain = await context.NewPageAsync();
        await plain.GotoAsync($"/app/servers/{serverId}/templates/{templateId}");
        await plain.GetByLabel("Test model (JSON)").FillAsync("{\"name\": \"Grace\", \"product_name\": \"Mailroom\"}");
        await plain.GetByRole(AriaRole.Button, new() { Name = "Preview" }).ClickAsync();
        await Expect(plain.Locator("#preview-subject")).ToHaveTextAsync("Hi Grace");
        await Expect(plain.FrameLocator("#preview-html").Locator("b")).ToHaveTextAsync("Grace");
        await context.CloseAsync();

        // Another server's template ID in this server's URL is not found.
        var (otherServer, otherToken) = await WebAppFixture.NewServerAsync(accountApi, "Other");
        using var other = ServerApi(otherToken);
        var made = await other.PostAsJsonAsync("/templates", new { Name = "Theirs", Subject = "x", TextBody = "y" });
        var theirs = (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("TemplateId").GetInt32();
        Assert.Equal(404, (await page.GotoAsync($"/app/servers/{serverId}/templates/{theirs}"))!.Status);
        Assert.Equal(200, (await page.GotoAsync($"/app/servers/{otherServer}/templates/{theirs}"))!.Status);
    }

    [Fact]
    public async Task TheStatsPageShowsTheFiguresOfMessagesSentAsTheStatsApiCountsThem()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Stats");
        using var api = ServerApi(token);
        for (var i = 0; i < 3; i++)
        {
            var sent = await api.PostAsJsonAsync("/email", new
            {
                From = "shop@mailroom.test", To = $"reader{i}@stats.example", Subject = "Stats " + i, TextBody = "Hi.", Tag = i < 2 ? "digest" : "alert",
            });
            Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        }
        await Eventually.True(() => Task.FromResult(app.Sink.Messages.Count(m => m.Recipients.Any(r => r.EndsWith("@stats.example"))) >= 3), 60,
            "the three messages reach the sink\n" + app.Server.Output);
        var overview = await api.GetFromJsonAsync<JsonElement>("/stats/outbound");
        var digest = await api.GetFromJsonAsync<JsonElement>("/stats/outbound?tag=digest");
        Assert.Equal(3, overview.GetProperty("Sent").GetInt32());

        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync($"/app/servers/{serverId}/stats");
        await Expect(page.Locator("#total-sent")).ToHaveTextAsync(overview.GetProperty("Sent").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("#total-bounced")).ToHaveTextAsync(overview.GetProperty("Bounced").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("table.stats-days tfoot td").First).ToHaveTextAsync("3");
        // The charts are drawn (uPlot's canvases), from the same figures as the table, under the app's own CSP.
        await Expect(page.Locator(".plot canvas")).ToHaveCountAsync(3);
        var (strict, errors) = await EnforcingCspAsync(page);
        await strict.GotoAsync($"/app/servers/{serverId}/stats");
        await Expect(strict.Locator(".plot canvas")).ToHaveCountAsync(3);
        await strict.Context.CloseAsync();
        Assert.Empty(errors);
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "stats");

        await page.GetByLabel("Tag").FillAsync("digest");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await Expect(page.Locator("#total-sent")).ToHaveTextAsync(digest.GetProperty("Sent").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, digest.GetProperty("Sent").GetInt32());

        // The servers list shows the same last-30-days figure.
        await page.GotoAsync("/app/servers");
        await Expect(page.Locator("tr", new() { HasText = "Stats" }).Locator("td.num").First).ToHaveTextAsync("3");
    }

    [Fact]
    public async Task AnInboundMessageSentToTheMxListenerAppearsWithItsFailedPostingAndRetrySucceeds()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Support desk");
        using var api = ServerApi(token);
        var path = "/refuse-first/" + app.Unique("in");
        var put = await api.PutAsJsonAsync("/server", new { InboundHookUrl = app.Receiver.BaseUrl + path });
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        var address = (await api.GetFromJsonAsync<JsonElement>("/server")).GetProperty("InboundAddress").GetString()!;

        var subject = "Help with order " + app.Unique("o");
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Pat Customer", "pat@customer.example"));
        message.To.Add(MailboxAddress.Parse(address));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "My parcel has not arrived." };
        using (var smtp = new SmtpClient { LocalDomain = "mta.customer.example" })
        {
            await smtp.ConnectAsync("127.0.0.1", app.MxPort, MailKit.Security.SecureSocketOptions.None);
            await smtp.SendAsync(message);
            await smtp.DisconnectAsync(true);
        }
        // The first post is refused with 403, which stops the posting: the message is Failed.
        await Eventually.True(() => Task.FromResult(app.Receiver.At(path).Count >= 1), 60, "the inbound post\n" + app.Server.Output);

        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync($"/app/servers/{serverId}/inbound");
        await Expect(page.Locator("#inbound-address")).ToHaveTextAsync(address);
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return await page.Locator("tr.inbound-message", new() { HasText = "Failed" }).CountAsync() == 1;
        }, 30, "the message listed as Failed");
        await app.AssertAccessibleAsync(page);
        await page.GetByLabel("Status").SelectOptionAsync("processed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.Locator("tr.inbound-message")).ToHaveCountAsync(0);
        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = subject }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = subject })).ToBeVisibleAsync();
        await Expect(page.Locator("dl.facts")).ToContainTextAsync("pat@customer.example");
        await Expect(page.Locator("pre.text-body").First).ToContainTextAsync("My parcel has not arrived.");
        await Expect(page.Locator("table.timeline tbody tr").First).ToContainTextAsync("403");
        await app.AssertAccessibleAsync(page);

        await page.GetByRole(AriaRole.Button, new() { Name = "Retry posting" }).ClickAsync();
        await Expect(page.GetByText("The message will be posted again.")).ToBeVisibleAsync();
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return (await page.Locator("#inbound-status").InnerTextAsync()).Trim() == "Processed";
        }, 60, "Processed after the retry\n" + app.Server.Output);
        await Expect(page.Locator("table.timeline td", new() { HasText = "200" })).ToHaveCountAsync(1);
        Assert.Equal(2, app.Receiver.At(path).Count);
        await WebAppFixture.ScreenshotAsync(page, "inbound-message");
        await page.GotoAsync($"/app/servers/{serverId}/inbound");
        await WebAppFixture.ScreenshotAsync(page, "inbound");

        // The same message under another tenant's server is not found.
        var (_, otherApi) = await app.NewAccountAsync();
        var (otherServer, _) = await WebAppFixture.NewServerAsync(otherApi, "Elsewhere");
        var messageId = Regex.Match(page.Url + " " + await page.Locator("tr.inbound-message a").First.GetAttributeAsync("href"), @"inbound/([0-9a-f-]{36})").Groups[1].Value;
        Assert.Equal(404, (await page.GotoAsync($"/app/servers/{otherServer}/inbound"))!.Status);
        Assert.Equal(404, (await page.GotoAsync($"/app/servers/{otherServer}/inbound/{messageId}"))!.Status);
    }

    [Fact]
    public async Task AReadOnlyMemberSeesTheNewPagesWithoutTheFormsThatChangeThings()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var (serverId, token) = await WebAppFixture.NewServerAsync(accountApi, "Watched");
        using var api = ServerApi(token);
        var hook = await api.PostAsJsonAsync("/webhooks", new { Url = "https://hooks.example.test/x" });
        var hookId = (await hook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ID").GetInt32();
        var made = await api.PostAsJsonAsync("/templates", new { Name = "Receipt", Subject = "Receipt {{n}}", TextBody = "Total {{n}}" });
        var templateId = (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("TemplateId").GetInt32();

        var member = await app.SignInNewUserAsync(account.AccountID, "member", "--server", serverId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await member.GotoAsync($"/app/servers/{serverId}/webhooks");
        await Expect(member.Locator("tr.webhook")).ToHaveCountAsync(1);
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Add webhook" })).ToHaveCountAsync(0);
        await member.GotoAsync($"/app/servers/{serverId}/webhooks/{hookId}");
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Delete webhook" })).ToHaveCountAsync(0);
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Rotate signing secret" })).ToHaveCountAsync(0);
        await member.GotoAsync($"/app/servers/{serverId}/templates/{templateId}");
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Save template" })).ToHaveCountAsync(0);
        await Expect(member.GetByRole(AriaRole.Button, new() { Name = "Delete template" })).ToHaveCountAsync(0);
        await Expect(member.Locator("#preview-subject")).ToHaveTextAsync(new Regex("^Receipt "));
        Assert.Equal(404, (await member.GotoAsync($"/app/servers/{serverId}/templates/new"))!.Status);
        // A webhook of another server of the same account, by its ID under this server's URL: not found.
        var (_, otherToken) = await WebAppFixture.NewServerAsync(accountApi, "Not shared");
        using var other = ServerApi(otherToken);
        var theirs = await other.PostAsJsonAsync("/webhooks", new { Url = "https://hooks.example.test/y" });
        var theirId = (await theirs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ID").GetInt32();
        Assert.Equal(404, (await member.GotoAsync($"/app/servers/{serverId}/webhooks/{theirId}"))!.Status);
        Assert.Equal(200, (await member.GotoAsync($"/app/servers/{serverId}/stats"))!.Status);
        Assert.Equal(200, (await member.GotoAsync($"/app/servers/{serverId}/inbound"))!.Status);
    }
}
