using System.Net.Http.Headers;
using Mailroom.Api;
using Mailroom.Cli;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// One Mailroom in process on the test server (Microsoft.AspNetCore.TestHost), with its own data folder and a
/// fresh database (SQLite, or PostgreSQL when the suite runs on it). Time is a <see cref="FakeTimeProvider"/>.
/// </summary>
public sealed class MailroomHost : IAsyncDisposable
{
    public WebApplication App { get; }
    public FakeTimeProvider Clock { get; }
    public string DataDirectory { get; }
    public MailroomSettings Settings { get; }

    private MailroomHost(WebApplication app, FakeTimeProvider clock, string data, MailroomSettings settings)
    {
        App = app;
        Clock = clock;
        DataDirectory = data;
        Settings = settings;
    }

    public static async Task<MailroomHost> StartAsync(Action<WebApplicationBuilder>? configure = null, Func<MailroomSettings, MailroomSettings>? tweak = null)
    {
        var data = TestPaths.NewTempDirectory();
        // By default no delivery role: tests that deliver opt in and point DNS and SMTP at loopback servers,
        // so nothing ever leaves 127.0.0.0/8. Dns: a loopback port where nothing answers, so no test ever asks a
        // real resolver; tests that need DNS run a TestDnsServer and pass its address.
        var settings = new MailroomSettings
        {
            DataDirectory = data,
            Database = await TestDatabase.CreateAsync(),
            PublicUrl = "http://mailroom.test",
            Roles = "api",
            Dns = "127.0.0.1:9",
            PlatformDomain = "mailroom.test",
            DeliveryPort = 9,
            // Tests that use DNS run a TestDnsServer on loopback, which answers at once; a short timeout keeps tests
            // that meet the dead resolver above from waiting the production 2 x 3 s per query (1 s: a busy machine may answer a live loopback query slowly).
            DnsTimeout = TimeSpan.FromSeconds(1),
        };
        if (tweak is not null)
            settings = tweak(settings);
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
        var app = MailroomApp.Build(settings, b =>
        {
            b.WebHost.UseTestServer();
            b.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock));
            configure?.Invoke(b);
        });
        await app.StartAsync();
        return new MailroomHost(app, clock, data, settings);
    }

    public HttpClient Client() => App.GetTestClient();

    public HttpClient AccountClient(string token)
    {
        var c = Client();
        c.DefaultRequestHeaders.Add(ApiConventions.AccountTokenHeader, token);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    public HttpClient ServerClient(string token)
    {
        var c = Client();
        c.DefaultRequestHeaders.Add(ApiConventions.ServerTokenHeader, token);
        c.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return c;
    }

    /// <summary>Creates an account through Core, as <c>mailroom accounts create</c> does.</summary>
    public async Task<AccountCreated> CreateAccountAsync(string name = "Acme", string email = "ops@acme.test")
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AccountService>().CreateAsync(name + "-" + Guid.NewGuid().ToString("N")[..6], email);
    }

    /// <summary>The account API client of a new account.</summary>
    public async Task<HttpClient> NewAccountClientAsync(string name = "Acme") => AccountClient((await CreateAccountAsync(name)).AccountToken);

    /// <summary>A new account with one server: its account client, server client and the server object.</summary>
    public async Task<Tenant> CreateTenantAsync(string serverName = "Main", string deliveryType = "Live")
    {
        var account = await CreateAccountAsync();
        var ac = AccountClient(account.AccountToken);
        var res = await ac.PostAsJsonAsync("/servers", new { Name = serverName, DeliveryType = deliveryType });
        res.EnsureSuccessStatusCode();
        var server = (await res.Content.ReadFromJsonAsync<ServerResponse>(Json))!;
        return new Tenant(account, ac, server, ServerClient(server.ApiTokens[0]));
    }

    public async Task<T> ScopedAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider);
    }

    public static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = false };

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        if (TestDatabase.IsPostgres)
            Npgsql.NpgsqlConnection.ClearAllPools(); // close idle connections of finished hosts
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed record Tenant(AccountCreated Account, HttpClient AccountApi, ServerResponse Server, HttpClient ServerApi);
