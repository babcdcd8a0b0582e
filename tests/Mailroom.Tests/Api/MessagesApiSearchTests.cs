using System.Globalization;
using Mailroom.Core.Queue;

namespace Mailroom.Tests.Api;

/// <summary>
/// <c>GET /messages/outbound</c>'s filters (spec §8.1) as served by the trigram indexes (SQLite FTS5, PostgreSQL pg_trgm,
/// migration MessageSearchIndexes): the same case-insensitive substring matches as a scan, for short terms and LIKE
/// wildcards too, one server's messages only, and none left behind by the retention job.
/// </summary>
public sealed class MessagesApiSearchTests : IAsyncLifetime
{
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync() => _host = await MailroomHost.StartAsync();

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private static async Task<string> SendAsync(Tenant t, string from, string to, string subject)
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = from, To = to, Subject = subject, TextBody = "Hi" }).OkJson();
        return r.GetProperty("MessageID").GetString()!;
    }

    private static async Task<(int Total, List<string> Ids)> SearchAsync(Tenant t, string query)
    {
        var r = await t.ServerApi.GetAsync("/messages/outbound?count=500&offset=0&" + query).OkJson();
        var ids = r.GetProperty("Messages").EnumerateArray().Select(m => m.GetProperty("MessageID").GetString()!).ToList();
        return (r.GetProperty("TotalCount").GetInt32(), ids);
    }

    /// <summary>
    /// For each filter, pages of several sizes and offsets (including past the end) answer exactly the messages the plain
    /// filter selects from <paramref name="mine"/>, newest first, with the exact TotalCount.
    /// </summary>
    private static async Task AssertEveryPageAsync(Tenant t, IReadOnlyList<OutboundMessage> mine, IEnumerable<(string Query, Func<OutboundMessage, bool> Match)> filters)
    {
        foreach (var (query, match) in filters)
        {
            var expected = mine.Where(match).OrderByDescending(m => m.ReceivedAt).Select(m => m.Id.ToString()).ToList();
            Assert.NotEmpty(expected);
            foreach (var (count, offset) in new[] { (50, 0), (50, 50), (7, 300), (500, 0), (100, Math.Max(0, expected.Count - 30)), (50, expected.Count) })
            {
                var r = await t.ServerApi.GetAsync($"/messages/outbound?count={count}&offset={offset}&{query}").OkJson();
                var ids = r.GetProperty("Messages").EnumerateArray().Select(m => m.GetProperty("MessageID").GetString()!).ToList();
                var want = expected.Skip(offset).Take(count).ToList();
                Assert.True(want.SequenceEqual(ids), $"{query}, count {count}, offset {offset}: {ids.Count} messages, {ids.Intersect(want).Count()} expected ones, first at {want.IndexOf(ids.FirstOrDefault() ?? "")}");
                Assert.Equal(expected.Count, r.GetProperty("TotalCount").GetInt32());
            }
        }
    }

    private static async Task AssertFindsAsync(Tenant t, string query, params string[] expected)
    {
        var (total, ids) = await SearchAsync(t, query);
        Assert.Equal(expected.Order(), ids.Order());
        Assert.Equal(expected.Length, total);
    }

    [Fact]
    public async Task SubstringFiltersMatchCaseInsensitivelyWithShortTermsAndWildcardCharactersTakenLiterally()
    {
        var t = await _host.CreateTenantAsync();
        var alice = await SendAsync(t, "billing@mailroom.test", "Alice.Smith@Example.net", "Invoice 50% paid");
        var bob = await SendAsync(t, "news@mailroom.test", "bob@example.org", "Invoice 500 paid");
        var carol = await SendAsync(t, "billing@mailroom.test", "carol@example.org", "Weekly a_b digest");
        var dave = await SendAsync(t, "news@mailroom.test", "dave@example.net", "Weekly axb digest");
        var cafe = await SendAsync(t, "news@mailroom.test", "erin@example.net", "Café \"crème\" 2024");

        await AssertFindsAsync(t, "recipient=alice.smith%40EXAMPLE.NET", alice);
        await AssertFindsAsync(t, "recipient=example.org", bob, carol);
        await AssertFindsAsync(t, "recipient=ob", bob);                  // shorter than a trigram: the scan
        await AssertFindsAsync(t, "fromemail=BILLING%40mailroom", alice, carol);
        await AssertFindsAsync(t, "fromemail=news", bob, dave, cafe);
        await AssertFindsAsync(t, "subject=invoice", alice, bob);
        await AssertFindsAsync(t, "subject=50%25", alice);               // '%' is a character here, not LIKE's wildcard
        await AssertFindsAsync(t, "subject=a_b", carol);                 // and so is '_'
        await AssertFindsAsync(t, "subject=%25", alice);
        await AssertFindsAsync(t, "subject=weekly&fromemail=news&recipient=.net", dave);
        await AssertFindsAsync(t, "subject=WEEKLY%20A", carol, dave);
        await AssertFindsAsync(t, "subject=CAF%C3%A9", cafe);            // not ASCII: the index's LIKE
        await AssertFindsAsync(t, "subject=%22cr%C3%A8me%22%202024", cafe);
        await AssertFindsAsync(t, "subject=%22%202024", cafe);        // a quote in the term (FTS5 query syntax)
        await AssertFindsAsync(t, "recipient=7919%40example.net");
        await AssertFindsAsync(t, "subject=nothing%20like%20this");
        await AssertFindsAsync(t, "subject=digest&tag=none");
    }

    [Fact]
    public async Task SearchesNeverReturnAnotherServersMessages()
    {
        var a = await _host.CreateTenantAsync();
        var b = await _host.CreateTenantAsync();
        var mine = await SendAsync(a, "app@mailroom.test", "shared@example.net", "Shared subject line");
        var theirs = await SendAsync(b, "app@mailroom.test", "shared@example.net", "Shared subject line");

        foreach (var query in new[] { "recipient=shared%40example.net", "fromemail=app%40mailroom.test", "subject=Shared%20subject", "" })
        {
            await AssertFindsAsync(a, query, mine);
            await AssertFindsAsync(b, query, theirs);
        }
    }

    [Fact]
    public async Task AMessageIsFoundAsSoonAsItsPostReturnsAndARowStoredOutsideTheQueueIsFoundBeforeAndAfterItIsIndexed()
    {
        var t = await _host.CreateTenantAsync();
        var first = await SendAsync(t, "orders@mailroom.test", "first.buyer@example.net", "Order 1001 shipped");
        await AssertFindsAsync(t, "recipient=first.buyer%40example", first);
        await AssertFindsAsync(t, "fromemail=orders%40mailroom", first);
        await AssertFindsAsync(t, "subject=order%201001", first);
        if (!TestDatabase.IsPostgres)
            Assert.True(await IndexedAsync(first)); // by its own group commit, before the 200

        // A row another writer stored (platform mail, an import): above the search index's cursor until the next group
        // commit indexes it; the search tests such rows directly.
        var other = Guid.CreateVersion7();
        await _host.ScopedAsync(sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.OutboundMessages.Add(new OutboundMessage
            {
                Id = other, AccountId = t.Account.AccountID, ServerId = t.Server.ID, From = "imports@mailroom.test",
                Subject = "Order 1002 shipped", RecipientsJson = "[\"second.buyer@example.net\"]", Stage = MessageStage.Prepared,
                Status = MessageStatus.Sent, ReceivedAt = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds(),
            });
            return db.SaveChangesAsync();
        });
        if (!TestDatabase.IsPostgres)
            Assert.False(await IndexedAsync(other.ToString()));
        async Task AssertBothFoundAsync(params string[] also)
        {
            await AssertFindsAsync(t, "recipient=second.buyer%40example", other.ToString());
            await AssertFindsAsync(t, "fromemail=imports%40mailroom", other.ToString());
            await AssertFindsAsync(t, "subject=order%201002", other.ToString());
            await AssertFindsAsync(t, "subject=shipped", [first, other.ToString(), .. also]);
            await AssertFindsAsync(t, "recipient=buyer%40example.net", [first, other.ToString(), .. also]);
        }
        await AssertBothFoundAsync();

        var third = await SendAsync(t, "orders@mailroom.test", "third.buyer@example.net", "Order 1003 shipped");
        if (!TestDatabase.IsPostgres)
        {
            Assert.True(await IndexedAsync(other.ToString()));
            Assert.True(await IndexedAsync(third));
        }
        await AssertBothFoundAsync(third);
        if (!TestDatabase.IsPostgres)
        {
            // Every row indexed, each once, with its current text (FTS5's check of an external-content index).
            await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Database.ExecuteSqlRawAsync(
                "INSERT INTO outbound_message_search(outbound_message_search, rank) VALUES ('integrity-check', 1)"));
        }
    }

    /// <summary>SQLite: whether the message is at or below the search index's cursor (MessageSearchIndex).</summary>
    private Task<bool> IndexedAsync(string id) => _host.ScopedAsync(async sp =>
    {
        var db = sp.GetRequiredService<MailroomDb>();
        var rows = await db.Database.SqlQueryRaw<long>(
            $"SELECT (SELECT \"Indexed\" FROM {MessageSearchIndex.CursorTable}) - rowid AS \"Value\" FROM outbound_messages WHERE \"Id\" = {{0}}",
            Guid.Parse(id).ToString().ToUpperInvariant()).ToListAsync();
        return Assert.Single(rows) >= 0;
    });

    [Fact]
    public async Task PurgedMessagesLeaveTheSearchIndexWithTheirRows()
    {
        var t = await _host.CreateTenantAsync();
        var old = await SendAsync(t, "app@mailroom.test", "old@example.net", "Quarterly report");
        await AssertFindsAsync(t, "subject=quarterly", old);
        await _host.ScopedAsync(async sp =>
        {
            // Past Accepted with no pending delivery, as Preparation and delivery would leave it.
            var db = sp.GetRequiredService<MailroomDb>();
            foreach (var m in db.OutboundMessages)
                m.Stage = MessageStage.Prepared;
            return await db.SaveChangesAsync();
        });
        _host.Clock.Advance(TimeSpan.FromDays(46)); // past the 45-day retention
        // The host's hourly job runs on the injected clock and may have purged it already; this pass makes sure.
        await _host.ScopedAsync(sp => sp.GetRequiredService<MessageRetention>().PurgeAsync());
        Assert.Equal(0, await _host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<MailroomDb>().OutboundMessages.Count())));

        await AssertFindsAsync(t, "subject=quarterly");
        var young = await SendAsync(t, "app@mailroom.test", "new@example.net", "Quarterly report");
        await AssertFindsAsync(t, "subject=quarterly", young);
        await AssertFindsAsync(t, "recipient=old%40example.net");
        await AssertFindsAsync(t, "recipient=new%40example.net", young);
        if (!TestDatabase.IsPostgres)
        {
            // The table was emptied, so the new row reused a rowid at or below the index's cursor: indexed by its insert.
            Assert.True(await IndexedAsync(young));
            await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Database.ExecuteSqlRawAsync(
                "INSERT INTO outbound_message_search(outbound_message_search, rank) VALUES ('integrity-check', 1)"));
        }
    }

    [Fact]
    public async Task TotalCountStopsAtTheTenThousandMessagePagingWindow()
    {
        var t = await _host.CreateTenantAsync();
        var other = await _host.CreateTenantAsync();
        var now = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.OutboundMessages.AddRange(Enumerable.Range(0, MessageLog.ApiCountLimit + 5).Select(i => new OutboundMessage
            {
                Id = Guid.NewGuid(), AccountId = t.Account.AccountID, ServerId = t.Server.ID, From = "app@mailroom.test",
                Subject = $"Bulk {i}", RecipientsJson = "[\"bulk@example.net\"]", Stage = MessageStage.Prepared,
                Status = MessageStatus.Sent, ReceivedAt = now - i,
            }));
            return await db.SaveChangesAsync();
        });

        var (total, page) = await SearchAsync(t, "");
        Assert.Equal(MessageLog.ApiCountLimit, total);
        Assert.Equal(500, page.Count);
        Assert.Equal(MessageLog.ApiCountLimit, (await SearchAsync(t, "recipient=bulk%40example")).Total);
        // Below the window the count is exact.
        Assert.Equal(1, (await SearchAsync(t, "subject=Bulk%2010004")).Total);
        Assert.Equal(0, (await SearchAsync(other, "")).Total);
    }

    /// <summary>
    /// A store larger than the newest-first walk's row budget (<see cref="MessageLog.MinWalkRows"/>): searches whose page
    /// the walk finds (a frequent sender, status=sent), whose page it cannot find (a sender only in old messages, a
    /// status absent from the newest rows) and pages deep enough to read the whole stream, each compared with the plain
    /// filter computed here: the same messages, newest first, the same TotalCount, and nothing of the other server,
    /// whose messages are all newer (a walk not scoped by server would see only them).
    /// </summary>
    [Fact]
    public async Task SearchesOfALargeStreamAnswerThePlainFilterNewestFirstOnEveryPage()
    {
        var t = await _host.CreateTenantAsync();
        var other = await _host.CreateTenantAsync();
        var now = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        const int n = 3 * MessageLog.MinWalkRows;
        var mine = Enumerable.Range(0, n).Select(i => new OutboundMessage
        {
            Id = Guid.NewGuid(), AccountId = t.Account.AccountID, ServerId = t.Server.ID,
            // Every 3rd from "Frequent" (the walk finds a page), "burst" only among the oldest third (many matches, but
            // the walk's window holds none: the trigram index answers), "rare" the oldest few (no walk).
            From = i % 3 == 0 ? "Frequent@Shop.test" : i >= n - 5 ? "rare@shop.test" : i >= 2 * n / 3 ? "burst@shop.test" : $"s{i}@other.test",
            Subject = $"Order {i}", RecipientsJson = $"[\"user{i % 7}@example.net\"]", Stage = MessageStage.Prepared,
            // Queued: the newest 100 (still in flight); Failed: one in 50 and every one of the oldest tenth.
            Status = i < 100 ? MessageStatus.Queued : i % 50 == 0 || i >= n - n / 10 ? MessageStatus.Failed : MessageStatus.Sent,
            ReceivedAt = now - 10_000 - i * 1000L,
        }).ToList();
        await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.OutboundMessages.AddRange(mine);
            db.OutboundMessages.AddRange(Enumerable.Range(0, MessageLog.MinWalkRows).Select(i => new OutboundMessage
            {
                Id = Guid.NewGuid(), AccountId = other.Account.AccountID, ServerId = other.Server.ID, From = "frequent@shop.test",
                Subject = "Order", RecipientsJson = "[\"user1@example.net\"]", Stage = MessageStage.Prepared,
                Status = MessageStatus.Sent, ReceivedAt = now - i,
            }));
            return await db.SaveChangesAsync();
        });

        var filters = new (string Query, Func<OutboundMessage, bool> Match)[]
        {
            ("fromemail=frequent%40shop", m => m.From.Contains("frequent@shop", StringComparison.OrdinalIgnoreCase)),
            ("fromemail=burst%40shop.test", m => m.From == "burst@shop.test"),
            ("fromemail=rare%40shop.test", m => m.From == "rare@shop.test"),
            ("fromemail=shop.test&recipient=user3%40", m => m.From.Contains("shop.test", StringComparison.OrdinalIgnoreCase) && m.RecipientsJson.Contains("user3@", StringComparison.Ordinal)),
            ("status=sent", m => m.Status == MessageStatus.Sent),
            ("status=failed", m => m.Status == MessageStatus.Failed),
            ("status=queued", m => m.Status == MessageStatus.Queued),
            ("status=sent&fromemail=frequent", m => m.Status == MessageStatus.Sent && m.From.StartsWith("Frequent", StringComparison.Ordinal)),
            ("subject=order%2059", m => m.Subject.StartsWith("Order 59", StringComparison.Ordinal)),
        };
        await AssertEveryPageAsync(t, mine, filters);
        var theirs = await SearchAsync(other, "fromemail=frequent%40shop");
        Assert.Equal(MessageLog.MinWalkRows, theirs.Total);
        Assert.Empty(theirs.Ids.Intersect(mine.Select(m => m.Id.ToString())));
    }

    /// <summary>
    /// A stream sending from a few addresses (the usual case: a server's sender signatures), whose <c>fromemail</c>
    /// search matches the term against the stream's distinct senders first (<see cref="MessageLog.MaxDistinctSenders"/>):
    /// every page, newest first, and TotalCount as the plain filter computed here, for mixed case, a short term, a term
    /// outside ASCII, no match, date bounds and a second filter; the same sender in the server's other stream and in
    /// another server (all newer) never in the answer.
    /// </summary>
    [Fact]
    public async Task SenderSearchesOfAStreamWithFewSendersAnswerThePlainFilterNewestFirstOnEveryPage()
    {
        var t = await _host.CreateTenantAsync();
        var other = await _host.CreateTenantAsync();
        var now = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        const int n = 3 * MessageLog.MinWalkRows;
        var mine = Enumerable.Range(0, n).Select(i => new OutboundMessage
        {
            Id = Guid.NewGuid(), AccountId = t.Account.AccountID, ServerId = t.Server.ID,
            From = i % 3 == 0 ? "Frequent@Shop.test" : i >= n - 5 ? "rare@shop.test" : i >= 2 * n / 3 ? "burst@shop.test"
                : i % 3 == 1 ? "News <news@Other.test>" : "\"Zoë\" <zoë@shop.test>",
            Subject = $"Order {i}", RecipientsJson = $"[\"user{i % 7}@example.net\"]", Stage = MessageStage.Prepared,
            Status = i < 100 ? MessageStatus.Queued : i % 50 == 0 ? MessageStatus.Failed : MessageStatus.Sent,
            ReceivedAt = now - 10_000 - i * 1000L,
        }).ToList();
        OutboundMessage Newer(int serverId, int accountId, string stream, int i) => new()
        {
            Id = Guid.NewGuid(), AccountId = accountId, ServerId = serverId, Stream = stream, From = "rare@shop.test",
            Subject = "Order", RecipientsJson = "[\"user1@example.net\"]", Stage = MessageStage.Prepared,
            Status = MessageStatus.Sent, ReceivedAt = now - i,
        };
        await _host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.OutboundMessages.AddRange(mine);
            db.OutboundMessages.AddRange(Enumerable.Range(0, 300).Select(i => Newer(other.Server.ID, other.Account.AccountID, "outbound", i)));
            db.OutboundMessages.AddRange(Enumerable.Range(0, 300).Select(i => Newer(t.Server.ID, t.Account.AccountID, "broadcast", i)));
            return await db.SaveChangesAsync();
        });

        var day = DateTimeOffset.FromUnixTimeMilliseconds(now - 3_000_000);
        var (fd, td) = (day.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture), day.AddMinutes(30).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture));
        var (fdMs, tdMs) = (DateTimeOffset.Parse(fd + "Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), DateTimeOffset.Parse(td + "Z", CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
        bool Has(OutboundMessage m, string term) => m.From.Contains(term, StringComparison.OrdinalIgnoreCase);
        var filters = new (string Query, Func<OutboundMessage, bool> Match)[]
        {
            ("fromemail=frequent%40shop", m => Has(m, "frequent@shop")),
            ("fromemail=SHOP.TEST", m => Has(m, "shop.test")),
            ("fromemail=burst%40shop.test", m => m.From == "burst@shop.test"),
            ("fromemail=rare%40shop.test", m => m.From == "rare@shop.test"),
            ("fromemail=ws", m => Has(m, "ws")),
            ("fromemail=zo%C3%AB%40", m => m.From.Contains("zoë@", StringComparison.Ordinal)),
            ("fromemail=news%40other.test&status=failed", m => Has(m, "news@other.test") && m.Status == MessageStatus.Failed),
            ($"fromemail=shop&fromdate={fd}&todate={td}", m => Has(m, "shop") && m.ReceivedAt >= fdMs && m.ReceivedAt <= tdMs),
        };
        await AssertEveryPageAsync(t, mine, filters);
        var none = await SearchAsync(t, "fromemail=nobody%40shop.test");
        Assert.Equal(0, none.Total);
        Assert.Empty(none.Ids);
        var theirs = await SearchAsync(other, "fromemail=rare%40shop");
        Assert.Equal(300, theirs.Total);
        Assert.Empty(theirs.Ids.Intersect(mine.Select(m => m.Id.ToString())));
    }
}
