using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Mailroom.Web.Tests;

/// <summary>DMARC in the web app against a real <c>mailroom serve</c>: monitoring started from the account's side, reports
/// imported, and "Who sends as you" classifying this Mailroom (with its send log), a known service and an unknown IP.</summary>
public sealed class DmarcJourneyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    /// <summary>The address the platform's Return-Path host resolves to: where this Mailroom delivers from.</summary>
    private static readonly IPAddress Ours = IPAddress.Parse("198.51.100.25");

    [Fact]
    public async Task StartMonitoringAVerifiedDomainThenWhoSendsAsYouShowsMailroomWithItsDeliveredCountAKnownServiceAndAnUnknownSource()
    {
        var (account, accountApi) = await app.NewAccountAsync();
        var domain = app.Unique("brand") + ".example";
        // A verified domain, set up through the API and the loopback DNS server.
        var created = await (await accountApi.PostAsJsonAsync("/domains", new { Name = domain })).Content.ReadFromJsonAsync<JsonElement>();
        var domainId = created.GetProperty("ID").GetInt32();
        app.Dns.AddTxt(created.GetProperty("DKIMPendingHost").GetString()!, created.GetProperty("DKIMPendingTextValue").GetString()!);
        (await accountApi.PutAsync($"/domains/{domainId}/verifyDkim", null)).EnsureSuccessStatusCode();
        app.Dns.AddA("pm-bounces.mailroom.test", Ours);
        // A SendGrid address named by its forward-confirmed reverse DNS.
        app.Dns.AddPtr(IPAddress.Parse("167.89.0.10"), "o1.ptr1234.sendgrid.net");
        app.Dns.AddA("o1.ptr1234.sendgrid.net", IPAddress.Parse("167.89.0.10"));

        // Mail through Mailroom from the domain: two recipients delivered, so the send log has two deliveries.
        var (_, token) = await WebAppFixture.NewServerAsync(accountApi, "Brand mail");
        using (var api = new HttpClient { BaseAddress = new Uri(app.Server.BaseUrl) })
        {
            api.DefaultRequestHeaders.Add("X-Postmark-Server-Token", token);
            var sent = await api.PostAsJsonAsync("/email", new
            {
                From = "news@" + domain, To = $"one@{domain}.customer.test, two@{domain}.customer.test", Subject = "News", TextBody = "Hello.",
            });
            Assert.True(sent.IsSuccessStatusCode, await sent.Content.ReadAsStringAsync());
        }
        await Eventually.True(() => Task.FromResult(app.Sink.Messages.Count(m => m.Recipients.Any(r => r.EndsWith(domain + ".customer.test"))) >= 1), 60,
            "delivered to the sink\n" + app.Server.Output);

        // Start monitoring from the app.
        var page = await app.SignInNewUserAsync(account.AccountID, "owner");
        await page.GotoAsync("/app/dmarc");
        await app.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start monitoring " + domain }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = domain })).ToBeVisibleAsync();
        await Expect(page.GetByText($"DMARC monitoring is on for {domain}.")).ToBeVisibleAsync();
        var recordId = int.Parse(Regex.Match(page.Url, @"/app/dmarc/(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

        // Publish exactly what the page shows, then verify.
        var host = (await page.Locator("tr.record-dmarc td:nth-child(2) code").InnerTextAsync()).Trim();
        var value = (await page.Locator("tr.record-dmarc td:nth-child(3) code").InnerTextAsync()).Trim();
        var reportingAddress = (await page.Locator("code.reporting-address").InnerTextAsync()).Trim();
        Assert.Equal("_dmarc." + domain, host);
        Assert.StartsWith("v=DMARC1; p=none;", value);
        Assert.Contains("rua=mailto:" + reportingAddress, value);
        Assert.EndsWith("@dmarc.mailroom.test", reportingAddress);
        app.Dns.AddTxt(host, value);
        await page.GetByRole(AriaRole.Button, new() { Name = "Verify record" }).ClickAsync();
        await Expect(page.GetByText($"Verified: the DMARC record of {domain} sends its reports here.")).ToBeVisibleAsync();
        await app.AssertAccessibleAsync(page);

        // A receiver's aggregate report covering the sending, imported with the CLI.
        var now = DateTimeOffset.UtcNow;
        var file = Path.Combine(TestPaths.NewTempDirectory("dmarc-import"), "google.com!" + domain + ".xml");
        await File.WriteAllTextAsync(file, Report(domain, now.AddHours(-1), now.AddHours(1),
            Row(Ours.ToString(), 1, "pass", "pass", domain, $"<dkim><domain>{domain}</domain><result>pass</result></dkim><spf><domain>pm-bounces.mailroom.test</domain><result>pass</result></spf>"),
            Row("167.89.0.10", 20, "pass", "fail", domain, $"<dkim><domain>{domain}</domain><result>pass</result></dkim><spf><domain>em123.sendgrid.net</domain><result>pass</result></spf>"),
            Row("192.0.2.66", 6, "fail", "fail", domain, $"<spf><domain>{domain}</domain><result>fail</result></spf>")));
        var import = await app.Server.CommandAsync("dmarc", "import", "--domain", domain, file);
        Assert.True(import.ExitCode == 0, import.ToString());

        // The report in the list and its details, with the sources' host names.
        await page.ReloadAsync();
        await Expect(page.Locator("tr.report")).ToHaveCountAsync(1);
        await WebAppFixture.ScreenshotAsync(page, "dmarc-domain");
        await page.Locator("tr.report a").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Report journey-1" })).ToBeVisibleAsync();
        await Expect(page.Locator("tr.report-row")).ToHaveCountAsync(3);
        await Expect(page.Locator("tr.report-row", new() { HasText = "167.89.0.10" }).Locator(".host-name")).ToHaveTextAsync("o1.ptr1234.sendgrid.net");
        await app.AssertAccessibleAsync(page);

        // Who sends as you: the three classified, Mailroom's delivered count beside the reported one.
        await page.GotoAsync($"/app/dmarc/{recordId}/sources");
        var mailroom = page.Locator("#kind-mailroom tr.group");
        await Expect(mailroom.Locator(".reported")).ToHaveTextAsync("1");
        // The Delivered events may be recorded a moment after the sink has the message.
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            return (await page.Locator("#kind-mailroom tr.group .delivered").InnerTextAsync()).Trim() == "2";
        }, 30, "Mailroom's delivered count from the send log");
        await Expect(mailroom.Locator("code.ip")).ToHaveTextAsync(Ours.ToString());
        await Expect(page.Locator("#kind-known tr.group .name")).ToHaveTextAsync("SendGrid");
        await Expect(page.Locator("#kind-known tr.group .reported")).ToHaveTextAsync("20");
        await Expect(page.Locator("#kind-unknown tr.group code.ip")).ToHaveTextAsync("192.0.2.66");
        await Expect(page.Locator("#kind-unknown tr.group .blocked")).ToHaveTextAsync("6");
        await Expect(page.Locator("#kind-forwarder tr.group")).ToHaveCountAsync(0);
        await Expect(page.Locator("dd.total")).ToHaveTextAsync("27");
        await Expect(page.Locator("dd.would-block")).ToContainTextAsync("6");
        await app.AssertAccessibleAsync(page);
        await WebAppFixture.ScreenshotAsync(page, "dmarc-sources");

        await page.GotoAsync("/app/dmarc");
        await Expect(page.Locator("tr.monitored-domain", new() { HasText = domain })).ToContainTextAsync(reportingAddress);
        await WebAppFixture.ScreenshotAsync(page, "dmarc");

        // Another account's owner, and a member of this one, get 404 for the domain's pages.
        var (other, _) = await app.NewAccountAsync();
        var stranger = await app.SignInNewUserAsync(other.AccountID, "owner");
        var member = await app.SignInNewUserAsync(account.AccountID, "member");
        foreach (var p in new[] { stranger, member })
            foreach (var path in new[] { $"/app/dmarc/{recordId}", $"/app/dmarc/{recordId}/sources", $"/app/dmarc/{recordId}/reports/1" })
                Assert.Equal(404, (await p.GotoAsync(path))!.Status);
        await stranger.GotoAsync("/app/dmarc");
        await Expect(stranger.GetByText(domain)).ToHaveCountAsync(0);

        // Stop monitoring: back to the overview, the domain offered again.
        await page.GotoAsync($"/app/dmarc/{recordId}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Stop monitoring" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/dmarc");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start monitoring " + domain })).ToBeVisibleAsync();
        Assert.Equal(404, (await page.GotoAsync($"/app/dmarc/{recordId}"))!.Status);
    }

    private static string Report(string domain, DateTimeOffset begin, DateTimeOffset end, params string[] records) => $"""
        <?xml version="1.0" encoding="UTF-8"?>
        <feedback><report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email><report_id>journey-1</report_id>
        <date_range><begin>{begin.ToUnixTimeSeconds()}</begin><end>{end.ToUnixTimeSeconds()}</end></date_range></report_metadata>
        <policy_published><domain>{domain}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct></policy_published>{string.Concat(records)}</feedback>
        """;

    private static string Row(string ip, int count, string dkim, string spf, string headerFrom, string auth) =>
        $"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf></policy_evaluated></row>" +
        $"<identifiers><header_from>{headerFrom}</header_from></identifiers><auth_results>{auth}</auth_results></record>";
}
