namespace Mailroom.Tests.Webhooks;

/// <summary>
/// <c>GET /events</c>: the payloads webhooks post, in commit order, with an opaque cursor. Events come from the
/// Suppressions API (SubscriptionChange). On PostgreSQL an event is returned once every write transaction that began
/// before it has ended, and other test hosts share the PostgreSQL server, so reads poll until the events are in.
/// </summary>
public sealed class WebhookReplayTests() : WebhookHostTests(allowPrivate: true)
{
    private static IEnumerable<string?> Recipients(List<JsonElement> events) => events.Select(e => e.GetProperty("Recipient").GetString());

    [Fact]
    public async Task ReplayReturnsTheSamePayloadsInAStableOrderWithACursor()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/webhooks", new { Url = Receiver.BaseUrl + "/replay", Triggers = new { SubscriptionChange = new { Enabled = true } } }).OkJson();
        foreach (var e in new[] { "a@example.net", "b@example.net", "c@example.net" })
            await SuppressAsync(t, e);
        await RoundAsync();
        var (events, cursor) = await PageAsync(t, "count=2", 2);
        Assert.Equal(2, events.Count);
        var (rest, last) = await PageAsync(t, $"after={cursor}&count=2", 1);
        events.AddRange(rest);
        Assert.Equal(["a@example.net", "b@example.net", "c@example.net"], Recipients(events));
        Assert.Equal(Receiver.At("/replay").Select(r => r.Body).Order(), events.Select(e => e.GetRawText()).Order());
        var end = await t.ServerApi.GetAsync($"/events?after={last}").OkJson();
        Assert.Empty(end.GetProperty("Events").EnumerateArray());
        Assert.Equal(last, end.GetProperty("NextCursor").GetString());
        Assert.Equal(3, (await PageAsync(t, "RecordType=SubscriptionChange&MessageStream=outbound", 3)).Events.Count);
        Assert.Empty((await t.ServerApi.GetAsync("/events?RecordType=Delivery").OkJson()).GetProperty("Events").EnumerateArray());
    }

    [Fact]
    public async Task AnotherServersEventsAreNeverReplayed()
    {
        var a = await Host.CreateTenantAsync();
        var b = await Host.CreateTenantAsync();
        await SuppressAsync(a, "only-a@example.net");
        await SuppressAsync(b, "only-b@example.net");
        var (events, cursor) = await PageAsync(a, "", 1);
        Assert.Equal(["only-a@example.net"], Recipients(events));
        Assert.Equal(["only-b@example.net"], Recipients((await PageAsync(b, "", 1)).Events));
        // A's cursor read by B: B's events after that position, never A's.
        Assert.DoesNotContain("only-a@example.net", Recipients((await PageAsync(b, "after=" + cursor, 0)).Events));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.")]
    [InlineData(".1")]
    [InlineData("1.2.3")]
    [InlineData("99999999999999999999999")]
    public async Task AMalformedCursorIsRefused(string after)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.GetAsync("/events?after=" + Uri.EscapeDataString(after)).Error(422, 1361);
    }

    [Fact]
    public async Task ACursorOfTheOtherStoreIsRefused()
    {
        var t = await Host.CreateTenantAsync();
        await SuppressAsync(t, "x@example.net");
        var (events, cursor) = await PageAsync(t, "", 1);
        Assert.Single(events);
        if (TestDatabase.IsPostgres)
        {
            // A bare Id (as cursors were before transaction order): read on from where that event is.
            Assert.Contains('.', cursor);
            var id = cursor[(cursor.IndexOf('.') + 1)..];
            var page = await t.ServerApi.GetAsync("/events?after=" + id).OkJson();
            Assert.Empty(page.GetProperty("Events").EnumerateArray());
            Assert.Equal(cursor, page.GetProperty("NextCursor").GetString());
            // A bare Id that is not one of this server's events says nothing of where to start.
            await t.ServerApi.GetAsync("/events?after=" + (long.Parse(id, System.Globalization.CultureInfo.InvariantCulture) + 1_000_000)).Error(422, 1361);
        }
        else
        {
            Assert.DoesNotContain('.', cursor);
            await t.ServerApi.GetAsync("/events?after=5." + cursor).Error(422, 1361);
        }
    }

    /// <summary>
    /// PostgreSQL: transaction A writes an event (taking the lower Id) and stays open while B writes one and commits.
    /// A reader that reads then, while A is open, and reads on from its cursor once A has committed, gets both
    /// events. With Id order and an Id cursor, the first read returned B's event and moved the cursor past A's Id,
    /// and A's event, committed after that read, was never returned.
    /// </summary>
    [Fact]
    public async Task AnEventWhoseTransactionCommitsAfterALaterOneWasReadIsStillReplayed()
    {
        Assert.SkipUnless(TestDatabase.IsPostgres, "SQLite has one writer: a later event cannot commit before an earlier one");
        var t = await Host.CreateTenantAsync();
        await using var scope = Host.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await using var a = await db.Database.BeginTransactionAsync();
        var payload = JsonSerializer.Serialize(new { RecordType = "SubscriptionChange", ServerID = t.Server.ID, MessageStream = "outbound", Recipient = "first@example.net" });
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO webhook_events ("ServerId", "Stream", "RecordType", "PayloadJson", "BounceId", "CreatedAt")
            VALUES ({t.Server.ID}, 'outbound', 'SubscriptionChange', {payload}, NULL, 0)
            """);
        await SuppressAsync(t, "second@example.net");

        var early = await t.ServerApi.GetAsync("/events").OkJson();
        Assert.Empty(early.GetProperty("Events").EnumerateArray());
        await a.CommitAsync();

        var (events, _) = await PageAsync(t, "after=" + early.GetProperty("NextCursor").GetString(), 2);
        Assert.Equal(["first@example.net", "second@example.net"], Recipients(events));
    }

    /// <summary>
    /// PostgreSQL, upgrading to transaction order (migration ReplayCommitOrder): events written before it have no
    /// transaction id. Taken down to the migration before and up again, the store replays them first, in Id order,
    /// then the events written after; a bare Id cursor handed out before the upgrade reads on from its event.
    /// </summary>
    [Fact]
    public async Task EventsWrittenBeforeTheUpgradeToTransactionOrderReplayFirstAndTheirOldCursorsReadOn()
    {
        Assert.SkipUnless(TestDatabase.IsPostgres, "the migration is PostgreSQL's");
        var t = await Host.CreateTenantAsync();
        foreach (var e in new[] { "old-1@example.net", "old-2@example.net" })
            await SuppressAsync(t, e);
        var (_, afterFirst) = await PageAsync(t, "count=1", 1);
        var oldCursor = afterFirst[(afterFirst.IndexOf('.') + 1)..]; // as cursors were before: the Id alone
        await Host.ScopedAsync(async sp =>
        {
            var migrator = Microsoft.EntityFrameworkCore.Infrastructure.AccessorExtensions.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>(sp.GetRequiredService<MailroomDb>());
            await migrator.MigrateAsync("20261205191137_PendingWebhookIndex");
            await migrator.MigrateAsync();
            return 0;
        });
        await SuppressAsync(t, "new-1@example.net");

        var (all, _) = await PageAsync(t, "", 3);
        Assert.Equal(["old-1@example.net", "old-2@example.net", "new-1@example.net"], Recipients(all));
        var (rest, _) = await PageAsync(t, "after=" + oldCursor, 2);
        Assert.Equal(["old-2@example.net", "new-1@example.net"], Recipients(rest));
    }
}
