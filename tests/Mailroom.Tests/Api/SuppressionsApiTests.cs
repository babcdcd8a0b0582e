using Mailroom.Core.Events;
using Mailroom.Mail.Bounces;

namespace Mailroom.Tests.Api;

/// <summary>Suppressions API (spec §7): per stream, deletion rules, limits and error codes, tenant isolation.</summary>
public sealed class SuppressionsApiTests : HostTests
{
    private static object Body(params string[] emails) => new { Suppressions = emails.Select(e => new { EmailAddress = e }).ToArray() };

    private Task AddBounceAsync(Tenant t, string email, BounceType type) =>
        Host.RecordBounceAsync(new BounceFacts(t.Server.ID, "outbound", null, email, type, "", "", "", "", null, true));

    [Fact]
    public async Task CreatedSuppressionsAreDumpedAndRefuseSendsInThatStreamOnly()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", Body("A@example.net", "nope", "b@example.net")).OkJson();
        Assert.Equal(["Suppressed", "Failed", "Suppressed"], r.GetProperty("Suppressions").EnumerateArray().Select(s => s.GetProperty("Status").GetString()));
        Assert.Equal("A@example.net", r.GetProperty("Suppressions")[0].GetProperty("EmailAddress").GetString()); // request order and spelling
        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        var rows = dump.GetProperty("Suppressions").EnumerateArray().ToList();
        Assert.Equal(["a@example.net", "b@example.net"], rows.Select(s => s.GetProperty("EmailAddress").GetString()).Order());
        Assert.All(rows, s => Assert.Equal("ManualSuppression", s.GetProperty("SuppressionReason").GetString()));
        Assert.All(rows, s => Assert.Equal("Customer", s.GetProperty("Origin").GetString()));
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "a@example.net", Subject = "x", TextBody = "x" }).Error(422, 406);
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "a@example.net", Subject = "x", TextBody = "x", MessageStream = "broadcast" }).OkJson();
        Assert.Empty((await t.ServerApi.GetAsync("/message-streams/broadcast/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
    }

    [Fact]
    public async Task DumpFiltersByReasonOriginDateAndAddress()
    {
        var t = await Host.CreateTenantAsync();
        await AddBounceAsync(t, "hard@example.net", BounceType.HardBounce);
        Host.Clock.Advance(TimeSpan.FromDays(3));
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", Body("manual@example.net")).OkJson();
        async Task<string[]> Emails(string q) => (await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump" + q).OkJson())
            .GetProperty("Suppressions").EnumerateArray().Select(s => s.GetProperty("EmailAddress").GetString()!).ToArray();
        Assert.Equal(["hard@example.net"], await Emails("?SuppressionReason=HardBounce"));
        Assert.Equal(["manual@example.net"], await Emails("?Origin=Customer"));
        Assert.Equal(["manual@example.net"], await Emails("?fromdate=2026-12-01"));
        Assert.Equal(["hard@example.net"], await Emails("?todate=2026-11-30"));
        Assert.Equal(["hard@example.net"], await Emails("?EmailAddress=HARD@example.net"));
        await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump?SuppressionReason=Nope").Error(422, 1404);
        await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump?Origin=Nope").Error(422, 1405);
    }

    [Fact]
    public async Task DeleteRemovesHardBouncesAndManualOnesButNotComplaints()
    {
        var t = await Host.CreateTenantAsync();
        await AddBounceAsync(t, "hard@example.net", BounceType.HardBounce);
        await AddBounceAsync(t, "spam@example.net", BounceType.SpamComplaint);
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", Body("manual@example.net")).OkJson();
        var r = await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete",
            Body("hard@example.net", "spam@example.net", "manual@example.net", "never@example.net", "bad address")).OkJson();
        var items = r.GetProperty("Suppressions").EnumerateArray().ToList();
        Assert.Equal(["Deleted", "Failed", "Deleted", "Deleted", "Failed"], items.Select(s => s.GetProperty("Status").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, items[0].GetProperty("Message").ValueKind);
        Assert.False(string.IsNullOrEmpty(items[1].GetProperty("Message").GetString()));
        var left = (await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray().ToList();
        Assert.Equal("spam@example.net", Assert.Single(left).GetProperty("EmailAddress").GetString());
        // Deleting the hard bounce's suppression reactivates its bounce.
        var hard = (await t.ServerApi.GetAsync("/bounces?count=10&offset=0&emailFilter=hard").OkJson()).GetProperty("Bounces")[0];
        Assert.False(hard.GetProperty("Inactive").GetBoolean());
    }

    [Fact]
    public async Task RequestsAreValidatedWithTheSpecsCodes()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams/nope/suppressions", Body("a@example.net")).Error(422, 1226);
        await t.ServerApi.GetAsync("/message-streams/nope/suppressions/dump").Error(422, 1226);
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete", Body("a@example.net")).OkJson();
        await t.ServerApi.PostAsJsonAsync("/message-streams/nope/suppressions/delete", Body("a@example.net")).Error(422, 1226);
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions",
            Body(Enumerable.Range(0, 51).Select(i => $"r{i}@example.net").ToArray())).Error(422, 1410);
        await t.ServerApi.PostAsync("/message-streams/outbound/suppressions", HttpAssertions.JsonBody("{}")).Error(422, 1409);
        await t.ServerApi.PostAsync("/message-streams/outbound/suppressions", HttpAssertions.JsonBody("{\"Suppressions\": 5}")).Error(422, 1409);
        await t.ServerApi.PostAsync("/message-streams/outbound/suppressions", HttpAssertions.JsonBody("{\"Suppressions\": [{}]}")).Error(422, 1411);
        var fifty = await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", Body(Enumerable.Range(0, 50).Select(i => $"r{i}@example.net").ToArray())).OkJson();
        Assert.Equal(50, fifty.GetProperty("Suppressions").GetArrayLength());
    }

    [Fact]
    public async Task AServerCannotSeeOrDeleteAnotherServersSuppressions()
    {
        var a = await Host.CreateTenantAsync();
        var b = await Host.CreateTenantAsync();
        await a.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", Body("shared@example.net")).OkJson();
        Assert.Empty((await b.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
        await b.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete", Body("shared@example.net")).OkJson(); // "Deleted": nothing of b's
        Assert.Single((await a.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
        await b.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "shared@example.net", Subject = "x", TextBody = "x" }).OkJson();
    }
}
