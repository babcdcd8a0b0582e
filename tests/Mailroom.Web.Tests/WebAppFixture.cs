using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Tests.Webhooks;

namespace Mailroom.Web.Tests;

/// <summary>
/// One real <c>mailroom serve</c> (every role, delivery relayed to a loopback SMTP sink, DNS from a loopback DNS
/// server) and one headless Debian Chromium driven by Playwright, shared by the journeys of <see cref="WebJourneyTests"/>.
/// Each journey makes its own account, so journeys never see each other's data.
/// </summary>
public sealed class WebAppFixture : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";
    public TestDnsServer Dns { get; private set; } = null!;
    public SmtpSink Sink { get; private set; } = null!;
    public MailroomProcess Server { get; private set; } = null!;
    /// <summary>A loopback HTTP endpoint for webhooks and inbound posts.</summary>
    public WebhookReceiver Receiver { get; private set; } = null!;
    public int MxPort { get; private set; }
    public IBrowser Browser { get; private set; } = null!;
    private IPlaywright? _playwright;
    private string _axe = "";
    private int _next;

    public async ValueTask InitializeAsync()
    {
        var axe = Path.Combine(TestPaths.RepoRoot, "tests", "node", "node_modules", "axe-core", "axe.min.js");
        Assert.True(File.Exists(axe), "Run `npm ci` in tests/node first (./test.sh and scripts/test-deps.sh do): axe-core is missing.");
        _axe = await File.ReadAllTextAsync(axe);
        Dns = TestDnsServer.Start();
        Sink = new SmtpSink(tls: false);
        Receiver = await WebhookReceiver.StartAsync();
        // 200 for every post, but the first to a path under /refuse-first/ gets 403 (an inbound posting stops: Failed).
        Receiver.Respond = (path, n) => path.StartsWith("/refuse-first/", StringComparison.Ordinal) && n == 1 ? (403, null) : (200, null);
        MxPort = SmtpSink.FreeTcpPort();
        // The MX listener (inbound pages) and webhooks to loopback (the receiver above): both on 127.0.0.1 only.
        Server = await MailroomProcess.StartAsync(["--platform-domain", "mailroom.test", "--dns", Dns.Address, "--roles", "all",
            "--relay", $"127.0.0.1:{Sink.Port}", "--mx", $"127.0.0.1:{MxPort}", "--allow-private-webhooks"]);
        _playwright = await Playwright.CreateAsync();
        // Expect(...) waits as long as a page step does (NewPageAsync): its default, 5 s, is short on a loaded CI machine.
        Assertions.SetDefaultExpectTimeout(90_000);
        // Debian's Chromium (scripts/test-deps.sh installs it): Playwright cannot download browsers here. No sandbox:
        // the suite runs as root in CI, where Chromium refuses its sandbox.
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        if (Sink is not null) await Sink.DisposeAsync();
        if (Receiver is not null) await Receiver.DisposeAsync();
        Dns?.Dispose();
    }

    public string Unique(string prefix) => $"{prefix}{Interlocked.Increment(ref _next)}x{Environment.ProcessId}";

    /// <summary>A new account through the CLI, and an HTTP client holding its account token.</summary>
    public async Task<(AccountCreated Account, HttpClient Api)> NewAccountAsync()
    {
        var name = Unique("acct");
        var account = await Server.CreateAccountAsync(name, $"{name}@owner.test");
        var http = new HttpClient { BaseAddress = new Uri(Server.BaseUrl) };
        http.DefaultRequestHeaders.Add("X-Postmark-Account-Token", account.AccountToken);
        return (account, http);
    }

    /// <summary>A server made through the API; returns its ID and its first API token.</summary>
    public static async Task<(int Id, string Token)> NewServerAsync(HttpClient accountApi, string name)
    {
        var response = await accountApi.PostAsJsonAsync("/servers", new { Name = name });
        response.EnsureSuccessStatusCode();
        var server = (await response.Content.ReadFromJsonAsync<ServerResponse>())!;
        return (server.ID, server.ApiTokens[0]);
    }

    /// <summary><c>mailroom users create --json</c>: the one-time set-password link it prints.</summary>
    public async Task<string> CreateUserAsync(int accountId, string email, string role, params string[] extra)
    {
        var result = await Server.CommandAsync(["users", "create", "--account", accountId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--email", email, "--role", role, "--json", .. extra]);
        Assert.True(result.ExitCode == 0, "mailroom users create failed: " + result);
        return JsonDocument.Parse(result.StandardOutput.Trim()).RootElement.GetProperty("SetPasswordLink").GetString()!;
    }

    /// <summary>A browser context of its own (its own cookies). CSP is bypassed only so the test can inject axe-core.</summary>
    public async Task<IPage> NewPageAsync(IBrowserContext? context = null)
    {
        context ??= await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.BaseUrl, BypassCSP = true });
        var page = await context.NewPageAsync();
        // Generous waits: CI machines run the whole suite beside these tests (2 cores), and a page can take seconds there.
        page.SetDefaultTimeout(90_000);
        page.SetDefaultNavigationTimeout(90_000);
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync(); // the confirm() of destructive forms
        return page;
    }

    /// <summary>The first sign-in: a user made by the CLI, its link followed, its password set; signed in on return.</summary>
    public async Task<IPage> SignInNewUserAsync(int accountId, string role, params string[] extra)
    {
        var email = Unique("user") + "@people.test";
        var link = await CreateUserAsync(accountId, email, role, extra);
        var page = await NewPageAsync();
        await page.GotoAsync(new Uri(link).PathAndQuery);
        await page.GetByLabel("New password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set password and sign in" }).ClickAsync();
        await WebAppFixture.AtAsync(page, "/app/servers");
        return page;
    }

    /// <summary>
    /// Waits until the page's address is <paramref name="path"/> (a query or fragment may follow). Not
    /// <c>WaitForURLAsync</c>: Playwright .NET's checks the address or load state and only then subscribes to the
    /// event that changes it, so an event delivered in between is lost and the wait runs out its whole timeout
    /// (microsoft/playwright-dotnet#3364; CI met it once at a sign-in). <c>ToHaveURLAsync</c> is polled by the
    /// browser's driver, with no event to lose.
    /// </summary>
    public static Task AtAsync(IPage page, string path) =>
        Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(
            "^[a-z]+://[^/]+" + System.Text.RegularExpressions.Regex.Escape(path) + "([?#].*)?$"));

    /// <summary>axe-core (npm, tests/node) on the page as it is: fails on any serious or critical WCAG 2.1 A/AA violation.</summary>
    public async Task AssertAccessibleAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'"))
            await page.AddScriptTagAsync(new PageAddScriptTagOptions { Content = _axe });
        var violations = await page.EvaluateAsync<string[]>(@"async () => {
            const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '));
        }");
        Assert.True(violations.Length == 0, $"axe on {page.Url}:\n" + string.Join("\n", violations));
    }

    /// <summary>With MAILROOM_SCREENSHOTS=DIR, saves the page (the README's screenshots come from a run with docs/screenshots).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("MAILROOM_SCREENSHOTS");
        if (string.IsNullOrEmpty(dir))
            return;
        Directory.CreateDirectory(dir);
        await page.SetViewportSizeAsync(1280, 800);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png"), FullPage = true });
    }
}
