namespace Mailroom.Tests.Api;

/// <summary>
/// What the API answers when the token header is missing, of the other kind, or unknown (401, ErrorCode 10), for both
/// token kinds, word for word: one token check serves the account and the server routes.
/// </summary>
public sealed class TokenHeaderTests : HostTests
{
    private async Task<(HttpStatusCode Code, int ErrorCode, string Message)> AskAsync(string path, string? header, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (header is not null)
            request.Headers.Add(header, token);
        var res = await Host.Client().SendAsync(request);
        var body = JsonDocument.Parse(await res.Content.ReadAsStringAsync()).RootElement;
        return (res.StatusCode, body.GetProperty("ErrorCode").GetInt32(), body.GetProperty("Message").GetString()!);
    }

    [Theory]
    [InlineData("/servers", null, "No account API token was given: send it in the 'X-Postmark-Account-Token' header.")]
    [InlineData("/servers", "X-Postmark-Server-Token", "This endpoint needs the account API token (X-Postmark-Account-Token), not a server token.")]
    [InlineData("/servers", "X-Postmark-Account-Token", "The account API token is not valid.")]
    [InlineData("/server", null, "No server API token was given: send it in the 'X-Postmark-Server-Token' header.")]
    [InlineData("/server", "X-Postmark-Account-Token", "This endpoint needs a server API token (X-Postmark-Server-Token), not the account token.")]
    [InlineData("/server", "X-Postmark-Server-Token", "The server API token is not valid.")]
    public async Task AMissingWrongOrUnknownTokenIsRefusedWithItsMessage(string path, string? header, string message)
    {
        var (code, errorCode, text) = await AskAsync(path, header, "not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, code);
        Assert.Equal(10, errorCode);
        Assert.Equal(message, text);
    }

    [Fact]
    public async Task AKnownTokenOfTheRightKindPasses()
    {
        var tenant = await Host.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.AccountApi.GetAsync("/servers?count=1&offset=0")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.ServerApi.GetAsync("/server")).StatusCode);
    }
}
