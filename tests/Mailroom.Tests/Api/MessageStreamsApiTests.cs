using Mailroom.Core.Accounts;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class MessageStreamsApiTests : HostTests
{
    [Fact]
    public async Task NewServerHasTheThreeDefaultStreams()
    {
        var t = await Host.CreateTenantAsync();
        var list = await t.ServerApi.GetAsync("/message-streams").OkJson();
        Assert.Equal(3, list.GetProperty("TotalCount").GetInt32());
        var streams = list.GetProperty("MessageStreams").EnumerateArray().ToDictionary(s => s.GetProperty("ID").GetString()!);
        Assert.Equal("Transactional", streams["outbound"].GetProperty("MessageStreamType").GetString());
        Assert.Equal("Inbound", streams["inbound"].GetProperty("MessageStreamType").GetString());
        Assert.Equal("Broadcasts", streams["broadcast"].GetProperty("MessageStreamType").GetString());
        Assert.Equal("Postmark", streams["broadcast"].GetProperty("SubscriptionManagementConfiguration").GetProperty("UnsubscribeHandlingType").GetString());
        Assert.Equal("None", streams["outbound"].GetProperty("SubscriptionManagementConfiguration").GetProperty("UnsubscribeHandlingType").GetString());
        foreach (var s in streams.Values)
        {
            Assert.Equal(t.Server.ID, s.GetProperty("ServerID").GetInt32());
            Assert.EndsWith("+00:00", s.GetProperty("CreatedAt").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.Null, s.GetProperty("ArchivedAt").ValueKind);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, s.GetProperty("UpdatedAt").ValueKind);
        }
    }

    [Fact]
    public async Task CreateGetEditAndFilterByType()
    {
        var t = await Host.CreateTenantAsync();
        var created = await t.ServerApi.PostAsJsonAsync("/message-streams/", new
        {
            ID = "news-letter_1",
            Name = "Newsletter",
            MessageStreamType = "Broadcasts",
            Description = "Monthly news",
        }).OkJson();
        Assert.Equal("news-letter_1", created.GetProperty("ID").GetString());
        Assert.Equal("Monthly news", created.GetProperty("Description").GetString());
        Assert.Equal("Postmark", created.GetProperty("SubscriptionManagementConfiguration").GetProperty("UnsubscribeHandlingType").GetString());

        var got = await t.ServerApi.GetAsync("/message-streams/news-letter_1").OkJson();
        Assert.Equal("Newsletter", got.GetProperty("Name").GetString());

        var edited = await t.ServerApi.PatchAsync("/message-streams/news-letter_1", JsonBody("""{"Name":"News","Description":null}""")).OkJson();
        Assert.Equal("News", edited.GetProperty("Name").GetString());
        Assert.Equal("Monthly news", edited.GetProperty("Description").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, edited.GetProperty("UpdatedAt").ValueKind);

        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "receipts", Name = "Receipts", MessageStreamType = "transactional" }).OkJson();
        var broadcasts = await t.ServerApi.GetAsync("/message-streams?MessageStreamType=Broadcasts").OkJson();
        Assert.Equal(["broadcast", "news-letter_1"], broadcasts.GetProperty("MessageStreams").EnumerateArray().Select(s => s.GetProperty("ID").GetString()));
        var transactional = await t.ServerApi.GetAsync("/message-streams?messagestreamtype=transactional").OkJson();
        Assert.Equal(2, transactional.GetProperty("TotalCount").GetInt32());
        await t.ServerApi.GetAsync("/message-streams?MessageStreamType=Weird").Error(422, 1221);
    }

    [Theory]
    [InlineData("""{"Name":"n","MessageStreamType":"Transactional"}""", 1222)]
    [InlineData("""{"ID":"ok","MessageStreamType":"Transactional"}""", 1223)]
    [InlineData("""{"ID":"ok","Name":"n"}""", 1221)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Bulk"}""", 1221)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Inbound"}""", 1228)]
    [InlineData("""{"ID":"1abc","Name":"n","MessageStreamType":"Transactional"}""", 1227)]
    [InlineData("""{"ID":"Upper","Name":"n","MessageStreamType":"Transactional"}""", 1227)]
    [InlineData("""{"ID":"has space","Name":"n","MessageStreamType":"Transactional"}""", 1227)]
    [InlineData("""{"ID":"abcdefghijabcdefghijabcdefghij1","Name":"n","MessageStreamType":"Transactional"}""", 1227)]
    [InlineData("""{"ID":"pm-mine","Name":"n","MessageStreamType":"Transactional"}""", 1233)]
    [InlineData("""{"ID":"outbound","Name":"n","MessageStreamType":"Transactional"}""", 1230)]
    [InlineData("""{"ID":"all","Name":"n","MessageStreamType":"Transactional"}""", 1237)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Transactional","Description":"<b>bold</b>"}""", 1234)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Transactional","SubscriptionManagementConfiguration":{"UnsubscribeHandlingType":"Postmark"}}""", 1239)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Broadcasts","SubscriptionManagementConfiguration":{"UnsubscribeHandlingType":"Custom"}}""", 1238)]
    [InlineData("""{"ID":"ok","Name":"n","MessageStreamType":"Broadcasts","SubscriptionManagementConfiguration":{"UnsubscribeHandlingType":"Sometimes"}}""", 1240)]
    public async Task CreateRefusesInvalidStreams(string body, int errorCode)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsync("/message-streams", JsonBody(body)).Error(422, errorCode);
    }

    [Fact]
    public async Task LongNameAndDescriptionAreRefused()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "x1", Name = new string('n', 101), MessageStreamType = "Transactional" }).Error(422, 1224);
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "x1", Name = "n", MessageStreamType = "Transactional", Description = new string('d', 1001) }).Error(422, 1231);
    }

    [Fact]
    public async Task AtMostThirtyStreamsPerServer()
    {
        var t = await Host.CreateTenantAsync();
        for (var i = 0; i < 27; i++)
            await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = $"s{i}", Name = $"S{i}", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "one-too-many", Name = "X", MessageStreamType = "Transactional" }).Error(422, 1225);
        // Archived streams still count until purged.
        await t.ServerApi.PostAsync("/message-streams/s0/archive", null).OkJson();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "one-too-many", Name = "X", MessageStreamType = "Transactional" }).Error(422, 1225);
    }

    [Fact]
    public async Task ArchiveHidesTheStreamUntilUnarchivedAndDefaultsCannotBeArchived()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "promo", Name = "Promo", MessageStreamType = "Broadcasts" }).OkJson();
        var archived = await t.ServerApi.PostAsync("/message-streams/promo/archive", JsonBody("{}")).OkJson();
        Assert.Equal("promo", archived.GetProperty("ID").GetString());
        Assert.Equal(t.Server.ID, archived.GetProperty("ServerID").GetInt32());
        var purge = DateTimeOffset.Parse(archived.GetProperty("ExpectedPurgeDate").GetString()!);
        Assert.Equal(Host.Clock.GetUtcNow().AddDays(45), purge);

        var visible = await t.ServerApi.GetAsync("/message-streams").OkJson();
        Assert.DoesNotContain("promo", visible.GetProperty("MessageStreams").EnumerateArray().Select(s => s.GetProperty("ID").GetString()));
        var withArchived = await t.ServerApi.GetAsync("/message-streams?IncludeArchivedStreams=true").OkJson();
        var promo = withArchived.GetProperty("MessageStreams").EnumerateArray().Single(s => s.GetProperty("ID").GetString() == "promo");
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, promo.GetProperty("ArchivedAt").ValueKind);

        var back = await t.ServerApi.PostAsync("/message-streams/promo/unarchive", null).OkJson();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, back.GetProperty("ArchivedAt").ValueKind);

        await t.ServerApi.PostAsync("/message-streams/outbound/archive", null).Error(422, 1229);
        await t.ServerApi.PostAsync("/message-streams/inbound/archive", null).Error(422, 1229);
        await t.ServerApi.PostAsync("/message-streams/broadcast/archive", null).OkJson();
        await t.ServerApi.PostAsync("/message-streams/missing/archive", null).Error(422, 1226);
        await t.ServerApi.GetAsync("/message-streams/missing").Error(422, 1226);
        await t.ServerApi.PatchAsync("/message-streams/missing", JsonBody("{}")).Error(422, 1226);
    }

    [Fact]
    public async Task TheBackgroundJobPurgesArchivedStreamsAfterTheirPurgeDate()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "old", Name = "Old", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "young", Name = "Young", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsync("/message-streams/old/archive", null).OkJson();
        Host.Clock.Advance(TimeSpan.FromDays(30));
        await t.ServerApi.PostAsync("/message-streams/young/archive", null).OkJson();
        Host.Clock.Advance(TimeSpan.FromDays(16)); // the hourly purge timer fires on the injected clock

        await Eventually.True(async () => (await t.ServerApi.GetAsync("/message-streams/old")).StatusCode == System.Net.HttpStatusCode.UnprocessableEntity);
        await t.ServerApi.GetAsync("/message-streams/old").Error(422, 1226);
        var young = await t.ServerApi.GetAsync("/message-streams/young?").OkJson();
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, young.GetProperty("ArchivedAt").ValueKind);
        Assert.Equal(0, await Host.ScopedAsync(sp => sp.GetRequiredService<MessageStreamService>().PurgeExpiredAsync()));
    }

    [Fact]
    public async Task UnarchiveAfterThePurgeDateIsRefused()
    {
        // Without the purge worker: the window between the purge date and the next purge run.
        await using var host = await MailroomHost.StartAsync(b =>
            b.Services.Remove(b.Services.Single(d => d.ImplementationType == typeof(Mailroom.Workers.StreamPurgeWorker))));
        var t = await host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "late", Name = "Late", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsync("/message-streams/late/archive", null).OkJson();
        host.Clock.Advance(TimeSpan.FromDays(45) + TimeSpan.FromSeconds(1));
        await t.ServerApi.PostAsync("/message-streams/late/unarchive", null).Error(422, 1232);
    }

    [Fact]
    public async Task AServerTokenNeverReachesAnotherServersStreams()
    {
        var a = await Host.CreateTenantAsync("A");
        var b = await Host.CreateTenantAsync("B");
        await b.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "b-only", Name = "B only", MessageStreamType = "Transactional" }).OkJson();
        await a.ServerApi.GetAsync("/message-streams/b-only").Error(422, 1226);
        await a.ServerApi.PatchAsync("/message-streams/b-only", JsonBody("""{"Name":"hijack"}""")).Error(422, 1226);
        await a.ServerApi.PostAsync("/message-streams/b-only/archive", null).Error(422, 1226);
        var listA = await a.ServerApi.GetAsync("/message-streams?IncludeArchivedStreams=true").OkJson();
        Assert.All(listA.GetProperty("MessageStreams").EnumerateArray(), s => Assert.Equal(a.Server.ID, s.GetProperty("ServerID").GetInt32()));
        // Same stream ID on two servers is fine: IDs are per server.
        await a.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "b-only", Name = "A's own", MessageStreamType = "Transactional" }).OkJson();
        var bStream = await b.ServerApi.GetAsync("/message-streams/b-only").OkJson();
        Assert.Equal("B only", bStream.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task EditCannotChangeIdOrType()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PatchAsync("/message-streams/outbound", JsonBody("""{"MessageStreamType":"Broadcasts"}""")).Error(422, 1221);
        await t.ServerApi.PatchAsync("/message-streams/outbound", JsonBody("""{"Name":""}""")).Error(422, 1223);
        var ok = await t.ServerApi.PatchAsync("/message-streams/outbound", JsonBody("""{"Name":"Receipts","MessageStreamType":"Transactional"}""")).OkJson();
        Assert.Equal("Receipts", ok.GetProperty("Name").GetString());
    }
}
