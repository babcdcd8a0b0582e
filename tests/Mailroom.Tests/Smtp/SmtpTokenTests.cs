using MailKit.Net.Smtp;

namespace Mailroom.Tests.Smtp;

/// <summary>Per-stream SMTP tokens: made with the server token, used as AUTH user name and password, stream fixed.</summary>
public sealed class SmtpTokenTests : IAsyncLifetime
{
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await SmtpHost.StartAsync();
    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private static async Task<(string AccessKey, string SecretKey)> CreateAsync(Tenant t, string stream)
    {
        var created = await t.ServerApi.PostAsync($"/message-streams/{stream}/smtp-tokens", null).OkJson();
        Assert.Equal(stream, created.GetProperty("MessageStream").GetString());
        return (created.GetProperty("AccessKey").GetString()!, created.GetProperty("SecretKey").GetString()!);
    }

    [Fact]
    public async Task ATokenSendsToItsStreamWhateverTheHeaderSays()
    {
        var t = await _host.CreateTenantAsync();
        var (access, secret) = await CreateAsync(t, "broadcast");
        using var client = await _host.ClientAsync(null);
        await client.AuthenticateAsync(access, secret);
        var message = SmtpHost.Message(subject: "News");
        message.Headers.Add("X-PM-Message-Stream", "outbound");
        var id = SmtpHost.QueuedId(await client.SendAsync(message));
        Assert.Equal("broadcast", (await _host.StoredAsync(id)).Stream);
        var list = await t.ServerApi.GetAsync("/messages/outbound?count=10&offset=0&messagestream=broadcast").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
    }

    [Fact]
    public async Task TokensAreListedWithoutSecretsAndCanBeRevoked()
    {
        var t = await _host.CreateTenantAsync();
        var (access, secret) = await CreateAsync(t, "outbound");
        var list = await t.ServerApi.GetAsync("/message-streams/outbound/smtp-tokens").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
        var item = list.GetProperty("SmtpTokens")[0];
        Assert.Equal(access, item.GetProperty("AccessKey").GetString());
        Assert.False(item.TryGetProperty("SecretKey", out _));
        Assert.DoesNotContain(secret, list.GetRawText());

        await t.ServerApi.DeleteAsync($"/message-streams/outbound/smtp-tokens/{access}").OkJson();
        using var client = await _host.ClientAsync(null);
        await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => client.AuthenticateAsync(access, secret));
    }

    [Fact]
    public async Task AWrongSecretOrAnotherServersStreamDoesNotAuthenticate()
    {
        var t = await _host.CreateTenantAsync();
        var other = await _host.CreateTenantAsync("Other");
        var (access, _) = await CreateAsync(t, "outbound");
        using var client = await _host.ClientAsync(null);
        await Assert.ThrowsAsync<MailKit.Security.AuthenticationException>(() => client.AuthenticateAsync(access, "not-the-secret"));
        // Another server's token cannot see or delete this server's tokens.
        await other.ServerApi.DeleteAsync($"/message-streams/outbound/smtp-tokens/{access}").Error(422, 300);
        Assert.Equal(0, (await other.ServerApi.GetAsync("/message-streams/outbound/smtp-tokens").OkJson()).GetProperty("TotalCount").GetInt32());
    }

    [Theory]
    [InlineData("inbound", 1236)]
    [InlineData("nope", 1226)]
    public async Task OnlySendingStreamsGetTokens(string stream, int code)
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PostAsync($"/message-streams/{stream}/smtp-tokens", null).Error(422, code);
    }

    [Fact]
    public async Task ATokenOfAnArchivedStreamCannotSend()
    {
        var t = await _host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "promo", Name = "Promo", MessageStreamType = "Broadcasts" }).OkJson();
        var (access, secret) = await CreateAsync(t, "promo");
        await t.ServerApi.PostAsync("/message-streams/promo/archive", null).OkJson();
        using var client = await _host.ClientAsync(null);
        await client.AuthenticateAsync(access, secret);
        await client.RefusedAsync(SmtpHost.Message(), SmtpStatusCode.MailboxUnavailable, "5.7.1");
    }
}
