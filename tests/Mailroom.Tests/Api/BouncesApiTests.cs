using Mailroom.Core.Events;
using Mailroom.Mail.Bounces;

namespace Mailroom.Tests.Api;

/// <summary>Bounce API (spec §6): fields, filters, paging limits, activation and tenant isolation. Bounces are
/// written through <see cref="BounceRecorder"/> directly, as delivery and the MX path do.</summary>
public sealed class BouncesApiTests : HostTests
{
    private Task<long> AddAsync(Tenant t, string email, BounceType type, string stream = "outbound", string tag = "", string? content = null, Guid? messageId = null) =>
        Host.RecordBounceAsync(new BounceFacts(t.Server.ID, stream, messageId, email, type,
            "550 5.1.1 unknown", "app@mailroom.test", "Hello", tag, content, type.SuppressesRecipient));

    /// <summary>A real message (accepted, not delivered: no delivery role) for bounces that name one.</summary>
    private static async Task<Guid> MessageAsync(Tenant t)
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "someone@example.net", Subject = "Hello", TextBody = "Hi" }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    [Fact]
    public async Task ABounceCarriesEveryFieldOfTheSpec()
    {
        var t = await Host.CreateTenantAsync();
        var mid = await MessageAsync(t);
        var id = await AddAsync(t, "Jo@Example.net", BounceType.HardBounce, tag: "welcome", content: "Raw DSN", messageId: mid);
        var b = await t.ServerApi.GetAsync($"/bounces/{id}").OkJson();
        Assert.Equal(["BouncedAt", "CanActivate", "Content", "Description", "Details", "DumpAvailable", "Email", "From", "ID", "Inactive",
            "MessageID", "MessageStream", "Name", "RecordType", "ServerID", "Subject", "Tag", "Type", "TypeCode"],
            b.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Bounce", b.GetProperty("RecordType").GetString());
        Assert.Equal("jo@example.net", b.GetProperty("Email").GetString());
        Assert.Equal(mid.ToString(), b.GetProperty("MessageID").GetString());
        Assert.Equal(t.Server.ID, b.GetProperty("ServerID").GetInt32());
        Assert.Equal("Hard bounce", b.GetProperty("Name").GetString());
        Assert.Equal("Raw DSN", b.GetProperty("Content").GetString());
        Assert.True(b.GetProperty("DumpAvailable").GetBoolean());
        Assert.Equal("2026-11-29T12:00:00+00:00", b.GetProperty("BouncedAt").GetString());
        Assert.Equal("Raw DSN", (await t.ServerApi.GetAsync($"/bounces/{id}/dump").OkJson()).GetProperty("Body").GetString());
        var listed = (await t.ServerApi.GetAsync("/bounces?count=10&offset=0").OkJson()).GetProperty("Bounces")[0];
        Assert.False(listed.TryGetProperty("Content", out _));
    }

    [Fact]
    public async Task DeliveryStatsCountsByTypeAfterAnAllRow()
    {
        var t = await Host.CreateTenantAsync();
        await AddAsync(t, "a@example.net", BounceType.HardBounce);
        await AddAsync(t, "b@example.net", BounceType.HardBounce);
        await AddAsync(t, "c@example.net", BounceType.SoftBounce);
        await AddAsync(t, "d@example.net", BounceType.SpamComplaint);
        var s = await t.ServerApi.GetAsync("/deliverystats").OkJson();
        Assert.Equal(3, s.GetProperty("InactiveMails").GetInt32());
        var rows = s.GetProperty("Bounces").EnumerateArray().ToList();
        Assert.Equal("All", rows[0].GetProperty("Name").GetString());
        Assert.Equal(4, rows[0].GetProperty("Count").GetInt32());
        Assert.False(rows[0].TryGetProperty("Type", out _));
        Assert.Equal(["HardBounce:2", "SoftBounce:1", "SpamComplaint:1"], rows.Skip(1).Select(r => $"{r.GetProperty("Type").GetString()}:{r.GetProperty("Count").GetInt32()}"));
    }

    [Fact]
    public async Task ListFiltersByTypeInactiveEmailTagMessageDateAndStream()
    {
        var t = await Host.CreateTenantAsync();
        var mid = await MessageAsync(t);
        await AddAsync(t, "hard@example.net", BounceType.HardBounce, tag: "t1", messageId: mid);
        Host.Clock.Advance(TimeSpan.FromDays(2));
        await AddAsync(t, "soft@example.net", BounceType.SoftBounce, tag: "t2");
        await AddAsync(t, "other@example.net", BounceType.HardBounce, stream: "broadcast");
        async Task<int> Count(string q) => (await t.ServerApi.GetAsync("/bounces?count=50&offset=0" + q).OkJson()).GetProperty("TotalCount").GetInt32();
        Assert.Equal(2, await Count(""));
        Assert.Equal(1, await Count("&type=HardBounce"));
        Assert.Equal(1, await Count("&inactive=true"));
        Assert.Equal(1, await Count("&inactive=false"));
        Assert.Equal(1, await Count("&emailFilter=SOFT"));
        Assert.Equal(1, await Count("&tag=t1"));
        Assert.Equal(1, await Count($"&messageID={mid}"));
        Assert.Equal(1, await Count("&fromdate=2026-11-30"));
        Assert.Equal(1, await Count("&todate=2026-11-29"));
        Assert.Equal(1, await Count("&messagestream=broadcast"));
        var page = await t.ServerApi.GetAsync("/bounces?count=1&offset=0").OkJson();
        Assert.Equal(2, page.GetProperty("TotalCount").GetInt32());
        Assert.Equal("soft@example.net", Assert.Single(page.GetProperty("Bounces").EnumerateArray()).GetProperty("Email").GetString()); // newest first
    }

    [Theory]
    [InlineData("count=501&offset=0")]
    [InlineData("count=0&offset=0")]
    [InlineData("count=500&offset=9501")]
    [InlineData("count=10&offset=-1")]
    [InlineData("count=x&offset=0")]
    [InlineData("count=10&offset=0&type=NoSuchType")]
    [InlineData("count=10&offset=0&fromdate=yesterday")]
    [InlineData("count=10&offset=0&inactive=maybe")]
    public async Task BadListQueriesAnswer1000(string query)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.GetAsync("/bounces?" + query).Error(422, 1000);
    }

    [Fact]
    public async Task ActivateRemovesTheHardBounceSuppression()
    {
        var t = await Host.CreateTenantAsync();
        var id = await AddAsync(t, "jo@example.net", BounceType.HardBounce);
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", Subject = "x", TextBody = "x" }).Error(422, 406);
        var r = await t.ServerApi.PutAsync($"/bounces/{id}/activate", null).OkJson();
        Assert.Equal("OK", r.GetProperty("Message").GetString());
        Assert.False(r.GetProperty("Bounce").GetProperty("Inactive").GetBoolean());
        Assert.Empty((await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
        Assert.False((await t.ServerApi.GetAsync($"/bounces/{id}").OkJson()).GetProperty("Inactive").GetBoolean());
    }

    [Fact]
    public async Task UnknownBouncesAnswer1001()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.GetAsync("/bounces/999999").Error(422, 1001);
        await t.ServerApi.GetAsync("/bounces/abc/dump").Error(422, 1001);
        await t.ServerApi.PutAsync("/bounces/999999/activate", null).Error(422, 1001);
    }

    [Fact]
    public async Task AServerSeesOnlyItsOwnBounces()
    {
        var a = await Host.CreateTenantAsync();
        var b = await Host.CreateTenantAsync();
        var id = await AddAsync(a, "jo@example.net", BounceType.HardBounce);
        await b.ServerApi.GetAsync($"/bounces/{id}").Error(422, 1001);
        await b.ServerApi.GetAsync($"/bounces/{id}/dump").Error(422, 1001);
        await b.ServerApi.PutAsync($"/bounces/{id}/activate", null).Error(422, 1001);
        Assert.Equal(0, (await b.ServerApi.GetAsync("/bounces?count=10&offset=0").OkJson()).GetProperty("TotalCount").GetInt32());
        var stats = await b.ServerApi.GetAsync("/deliverystats").OkJson();
        Assert.Equal(0, stats.GetProperty("InactiveMails").GetInt32());
        Assert.Equal(JsonValueKind.Array, stats.GetProperty("Bounces").ValueKind);
        Assert.True((await a.ServerApi.GetAsync($"/bounces/{id}").OkJson()).GetProperty("Inactive").GetBoolean());
    }

    [Fact]
    public async Task BouncesNeedAServerToken()
    {
        var t = await Host.CreateTenantAsync();
        await t.AccountApi.GetAsync("/bounces?count=1&offset=0").Error(401, 10);
    }

    [Fact]
    public async Task DumpsGoAfter30DaysAndBouncesAfterTheRetentionButSuppressionsStay()
    {
        var t = await Host.CreateTenantAsync();
        var id = await AddAsync(t, "old@example.net", BounceType.HardBounce, content: "Raw DSN");
        Host.Clock.Advance(TimeSpan.FromDays(31));
        await Host.ScopedAsync(sp => sp.GetRequiredService<Mailroom.Core.Queue.MessageRetention>().PurgeAsync());
        var b = await t.ServerApi.GetAsync($"/bounces/{id}").OkJson();
        Assert.False(b.GetProperty("DumpAvailable").GetBoolean());
        Assert.Equal("", (await t.ServerApi.GetAsync($"/bounces/{id}/dump").OkJson()).GetProperty("Body").GetString());
        Host.Clock.Advance(TimeSpan.FromDays(15));
        await Host.ScopedAsync(sp => sp.GetRequiredService<Mailroom.Core.Queue.MessageRetention>().PurgeAsync());
        await t.ServerApi.GetAsync($"/bounces/{id}").Error(422, 1001);
        Assert.Single((await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
    }
}
