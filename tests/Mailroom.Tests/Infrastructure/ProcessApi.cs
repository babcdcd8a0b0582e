using Mailroom.Contracts;

namespace Mailroom.Tests.Infrastructure;

/// <summary>HTTP clients of a real <c>mailroom serve</c> (<see cref="MailroomProcess"/>) with an account or server token,
/// and the server a test creates through the account API.</summary>
public static class ProcessApi
{
    /// <summary>An HTTP client of <paramref name="server"/> sending <paramref name="header"/>: <paramref name="token"/>.</summary>
    public static HttpClient Api(this MailroomProcess server, string header, string token, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        var http = handler is null ? new HttpClient() : new HttpClient(handler);
        http.BaseAddress = new Uri(server.BaseUrl);
        if (timeout is { } t)
            http.Timeout = t;
        http.DefaultRequestHeaders.Add(header, token);
        return http;
    }

    public static HttpClient AccountApi(this MailroomProcess server, string accountToken, HttpMessageHandler? handler = null) =>
        server.Api("X-Postmark-Account-Token", accountToken, handler);

    public static HttpClient ServerApi(this MailroomProcess server, string serverToken, TimeSpan? timeout = null) =>
        server.Api("X-Postmark-Server-Token", serverToken, timeout: timeout);

    /// <summary>Creates a server through the account API (<paramref name="body"/> as <c>POST /servers</c> takes it).</summary>
    public static async Task<ServerResponse> CreateServerAsync(this HttpClient accountApi, object body)
    {
        var created = await accountApi.PostAsJsonAsync("/servers", body);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<ServerResponse>())!;
    }

    /// <summary><c>serve</c> arguments for a process whose every delivery is relayed to <paramref name="sink"/> and whose
    /// names resolve through <paramref name="dns"/> (nothing leaves loopback), all roles, platform domain mailroom.test;
    /// then <paramref name="more"/>.</summary>
    public static string[] RelayingArgs(TestDnsServer dns, SmtpSink sink, params string[] more) =>
        ["--platform-domain", "mailroom.test", "--dns", dns.Address, "--relay", $"127.0.0.1:{sink.Port}", "--roles", "all", .. more];

    /// <summary>A server (<paramref name="body"/> as <c>POST /servers</c> takes it) on a new account named
    /// <paramref name="accountName"/>, made through <c>accounts create</c> and the account API.</summary>
    public static async Task<ServerResponse> NewServerAsync(this MailroomProcess server, string accountName, object body)
    {
        var account = await server.CreateAccountAsync(accountName);
        using var http = server.AccountApi(account.AccountToken);
        return await http.CreateServerAsync(body);
    }
}
