using System.Data.Common;
using Mailroom.Core;
using Mailroom.Core.Webhooks;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mailroom.Tests.Webhooks;

/// <summary>
/// The dispatcher's claim with small batches, so that the claim cursor, the hosts left out of a claim (they have
/// enough rows waiting) and the bound on rows held all come into play with a few dozen events. On SQLite a claim is a
/// read from a cursor and the rows claimed are held in memory (no lease written); on PostgreSQL rows are leased. What
/// reaches the receivers must be the same on both: every event once, except a POST whose outcome was never known
/// (at least once). Events are SubscriptionChange (the Suppressions API); every endpoint is a receiver of its own on
/// its own loopback address (127.0.0.2, 127.0.0.3...), so each is its own host lane. The clock moves 1 ms after each batch of events,
/// so the rows' NextAttemptAt order is the order they were written in on both databases.
/// </summary>
public sealed class WebhookClaimTests() : WebhookHostTests(allowPrivate: true)
{
    private const int Batch = 4;
    private const int PerHost = 2;
    private const int AllSlots = 8;
    /// <summary>The most rows the dispatcher holds (WebhookDispatcher.StartAsync): BatchesPerHost batches for every
    /// host that can post at once.</summary>
    private const int MaxHeld = WebhookDispatcher.BatchesPerHost * Batch * (AllSlots / PerHost);

    private WebhookDispatcher NewDispatcher(IServiceScopeFactory? scopes = null, int perHost = PerHost, int batch = Batch) => new(
        scopes ?? Host.App.Services.GetRequiredService<IServiceScopeFactory>(),
        Host.App.Services.GetRequiredService<WebhookSender>(),
        new WebhookOptions
        {
            AllowPrivateDestinations = true, ClaimBatch = batch, MaxConcurrencyPerHost = perHost, MaxConcurrency = AllSlots, NodeId = "claim-tests",
        },
        Host.Clock, Host.App.Services.GetRequiredService<Secrets>(), Host.App.Services.GetRequiredService<ILogger<WebhookDispatcher>>());

    /// <summary>Each endpoint's own receiver, on its own loopback address (so its own host lane), by name.</summary>
    private readonly Dictionary<string, WebhookReceiver> _receivers = new(StringComparer.Ordinal);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var receiver in _receivers.Values)
            await receiver.DisposeAsync();
    }

    /// <summary>A tenant whose one webhook posts to http://127.0.0.N:port/{name}, a receiver of its own: an address,
    /// not a name, so no POST waits for DNS (a busy machine's slow answer would fail one).</summary>
    private async Task<Tenant> EndpointAsync(string name)
    {
        var receiver = await WebhookReceiver.StartAsync($"127.0.0.{2 + _receivers.Count}");
        _receivers[name] = receiver;
        var t = await Host.CreateTenantAsync(name);
        await t.ServerApi.PostAsJsonAsync("/webhooks", new
        {
            Url = $"{receiver.BaseUrl}/{name}",
            Triggers = new { SubscriptionChange = new { Enabled = true } },
        }).OkJson();
        return t;
    }

    /// <summary>The host (lane) of an endpoint's rows.</summary>
    private string HostOf(string name) => new Uri(_receivers[name].BaseUrl).Host;

    /// <summary>Every POST every endpoint received.</summary>
    private IEnumerable<ReceivedWebhook> AllReceived => _receivers.Values.SelectMany(r => r.Received);

    /// <summary>Events {name}{from}..{name}{from + count - 1}@example.net in one request (one transaction), then 1 ms later.</summary>
    private async Task EventsAsync(Tenant t, string name, int from, int count = 1)
    {
        await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions", new
        {
            Suppressions = Enumerable.Range(from, count).Select(i => new { EmailAddress = Recipient(name, i) }).ToArray(),
        }).OkJson();
        Host.Clock.Advance(TimeSpan.FromMilliseconds(1));
    }

    private static string Recipient(string name, int i) => $"{name}{i}@example.net";

    /// <summary>The recipients of the POSTs an endpoint received, in the order received (a recipient twice: posted twice).</summary>
    private List<string> Recipients(string name) =>
        _receivers[name].At("/" + name).Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("Recipient").GetString()!).ToList();

    private Task<List<WebhookDelivery>> DeliveriesAsync() =>
        Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookDeliveries.AsNoTracking().OrderBy(d => d.Id).ToListAsync());

    private Task<List<WebhookAttempt>> AttemptsAsync() =>
        Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().WebhookAttempts.AsNoTracking().ToListAsync());

    private Task<int> ExecuteAsync(string sql) =>
        Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Database.ExecuteSqlRawAsync(sql));

    private async Task<bool> AllDeliveredAsync(int rows)
    {
        var all = await DeliveriesAsync();
        return all.Count == rows && all.All(d => d.State == WebhookDeliveryState.Delivered);
    }

    /// <summary>Each row delivered at its first attempt, one attempt recorded for it, and every POST the receiver got
    /// carries the trace id (event-row) of a distinct row: nothing posted twice, nothing missing.</summary>
    private async Task AssertEachRowPostedOnceAsync(int rows)
    {
        var deliveries = await DeliveriesAsync();
        Assert.Equal(rows, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal((WebhookDeliveryState.Delivered, 1), (d.State, d.Attempts)));
        var traces = AllReceived.Select(r => r.Headers["X-PM-Webhook-Trace-Id"]).ToList();
        Assert.Equal(traces.Count, traces.Distinct().Count());
        Assert.Equal(deliveries.Select(d => $"{d.EventId}-{d.Id}").Order(), traces.Order());
        var attempts = await AttemptsAsync();
        Assert.Equal(deliveries.Select(d => d.Id), attempts.Select(a => a.DeliveryId).Order());
    }

    /// <summary>Holds an endpoint's requests open (a hanging endpoint) until <see cref="TaskCompletionSource.SetResult"/>.</summary>
    private TaskCompletionSource Hold(string name)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _receivers[name].Hold = _ => gate.Task;
        return gate;
    }

    [Fact]
    public async Task EveryEventIsPostedExactlyOnceWhenManyFlowToSeveralHostsWhileTheWorkerRuns()
    {
        string[] names = ["one", "two", "three"];
        var tenants = new List<Tenant>();
        foreach (var name in names)
            tenants.Add(await EndpointAsync(name));
        // "one" hangs until the others are done: its lane fills, claims leave it out and read on past its rows (the
        // cursor passes over them); when it answers again its rows behind the cursor must still be found.
        var gate = Hold("one");
        var dispatcher = NewDispatcher();
        using var stop = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(stop.Token);
        try
        {
            // Written while the worker runs, in requests of 1 to 5 events, the hosts interleaved: runs of one host longer
            // than a batch (full claims of one host) and claims that come back short while rows are still being written.
            var sent = new int[names.Length];
            for (var round = 0; round < 12; round++)
                for (var k = 0; k < names.Length; k++)
                {
                    var count = 1 + (round + k) % 5;
                    await EventsAsync(tenants[k], names[k], sent[k], count);
                    sent[k] += count;
                }
            Assert.All(sent, n => Assert.True(n > Batch * WebhookDispatcher.BatchesPerHost));
            await Eventually.True(() => Task.FromResult(Recipients("two").Count >= sent[1] && Recipients("three").Count >= sent[2]),
                because: "the other hosts' events are posted while host one hangs");
            Assert.Equal(PerHost, Recipients("one").Count);
            gate.SetResult();
            await Eventually.True(() => AllDeliveredAsync(sent.Sum()), because: "every row is delivered once host one answers");
            for (var k = 0; k < names.Length; k++)
                Assert.Equal(Enumerable.Range(0, sent[k]).Select(i => Recipient(names[k], i)).Order(), Recipients(names[k]).Order());
            await AssertEachRowPostedOnceAsync(sent.Sum());
        }
        finally
        {
            gate.TrySetResult();
            await stop.CancelAsync();
            await worker;
        }
        Assert.Equal(0, dispatcher.InFlight);
    }

    [Fact]
    public async Task ARowCommittedLateWithAnOlderNextAttemptThanTheClaimedRowsIsStillPostedWhileTheWorkerRuns()
    {
        var late = await EndpointAsync("late");
        var busy = await EndpointAsync("busy");
        // The late row: written first (so its NextAttemptAt is older than every other), hidden from claims until the
        // claims have read past it, as a producer's transaction that commits after later ones would leave it.
        await EventsAsync(late, "late", 0);
        await ExecuteAsync("UPDATE webhook_deliveries SET \"State\" = 1");
        const int busyEvents = 20;
        await EventsAsync(busy, "busy", 0, busyEvents);
        var gate = Hold("busy");
        var dispatcher = NewDispatcher();
        using var stop = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(stop.Token);
        try
        {
            // Two full claims of "busy" (its lane then has more than a batch waiting, so later claims leave it out and
            // find nothing): on SQLite the cursor now stands at the 8th row, past the late row's place.
            await Eventually.True(() => Task.FromResult(dispatcher.InFlight == Batch * WebhookDispatcher.BatchesPerHost && Recipients("busy").Count == PerHost),
                because: "two batches of the hanging host are claimed");
            var oldest = (await DeliveriesAsync()).Min(d => d.NextAttemptAt);
            await ExecuteAsync($"UPDATE webhook_deliveries SET \"State\" = 0, \"NextAttemptAt\" = {oldest - 1000} WHERE \"Host\" = '{HostOf("late")}'");
            // No claim comes back short and no row is released while "busy" hangs: on SQLite only the cursor's lifetime
            // brings the claim back to the start.
            await Eventually.True(() => Task.FromResult(Recipients("late").Count > 0), because: "the late row is posted while the other host still hangs");
            Assert.Equal(PerHost, Recipients("busy").Count);
            gate.SetResult();
            await Eventually.True(() => AllDeliveredAsync(busyEvents + 1), because: "every row is delivered");
            Assert.Equal([Recipient("late", 0)], Recipients("late"));
            Assert.Equal(Enumerable.Range(0, busyEvents).Select(i => Recipient("busy", i)).Order(), Recipients("busy").Order());
            await AssertEachRowPostedOnceAsync(busyEvents + 1);
        }
        finally
        {
            gate.TrySetResult();
            await stop.CancelAsync();
            await worker;
        }
    }

    [Fact]
    public async Task RowsReleasedUnpostedWhenTheWorkerStopsArePostedByTheNextRun()
    {
        var t = await EndpointAsync("stop");
        const int events = 20;
        // One at a time: the claims take them in this order on both databases.
        for (var i = 0; i < events; i++)
            await EventsAsync(t, "stop", i);
        var gate = Hold("stop");
        var dispatcher = NewDispatcher();
        var first = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(first.Token);
        await Eventually.True(() => Task.FromResult(dispatcher.InFlight == Batch * WebhookDispatcher.BatchesPerHost && Recipients("stop").Count == PerHost),
            because: "two batches are claimed and the endpoint holds its first POSTs");
        // Stopped while PerHost POSTs hang (the receiver has them; their outcome is never known) and the rest wait.
        var unknown = Recipients("stop");
        // (From the first batch: PostgreSQL's UPDATE ... RETURNING hands a claim's rows back in no particular order.)
        var firstBatch = Enumerable.Range(0, Batch).Select(i => Recipient("stop", i)).ToList();
        Assert.Subset(firstBatch.ToHashSet(), unknown.ToHashSet());
        await first.CancelAsync();
        await worker;
        first.Dispose();
        Assert.Equal(0, dispatcher.InFlight);
        // Released: still pending, never attempted, and (PostgreSQL) their leases ended, so they are due at once.
        Assert.All(await DeliveriesAsync(), d =>
            Assert.Equal((WebhookDeliveryState.Pending, 0, (string?)null, 0L), (d.State, d.Attempts, d.LeaseOwner, d.LeaseUntil)));
        Assert.Empty(await AttemptsAsync());

        gate.SetResult();
        // The next run (the endpoint hanging again, to see what it posts first) starts with the oldest released rows,
        // not after the rows the stopped run had read (SQLite: its claim cursor stood at the 8th row).
        gate = Hold("stop");
        using var second = new CancellationTokenSource();
        worker = dispatcher.RunAsync(second.Token);
        try
        {
            await Eventually.True(() => Task.FromResult(Recipients("stop").Count == 2 * PerHost), because: "the next run posts again");
            Assert.Subset(firstBatch.ToHashSet(), Recipients("stop").Skip(PerHost).ToHashSet());
            gate.SetResult();
            await Eventually.True(() => AllDeliveredAsync(events), because: "the next run posts every released row");
        }
        finally
        {
            gate.TrySetResult();
            await second.CancelAsync();
            await worker;
        }
        // At least once, and no more: the POSTs in flight at the stop are posted once more, every other event once.
        var got = Recipients("stop").CountBy(r => r).ToDictionary();
        Assert.Equal(Enumerable.Range(0, events).Select(i => Recipient("stop", i)).Order(), got.Keys.Order());
        Assert.All(got, g => Assert.Equal(unknown.Contains(g.Key) ? 2 : 1, g.Value));
        Assert.All(await DeliveriesAsync(), d => Assert.Equal((WebhookDeliveryState.Delivered, 1), (d.State, d.Attempts)));
        Assert.Equal(events, (await AttemptsAsync()).Count);
    }

    [Fact]
    public async Task AHangingHostWithMoreRowsThanTheNodeHoldsNeverDelaysAnotherHostsRowsWrittenAfterThem()
    {
        var slow = await EndpointAsync("slow");
        var fast = await EndpointAsync("fast");
        // More of the hanging host's rows, all older, than the dispatcher may hold in all: claims that took them in
        // order would fill the node with them and never reach the other host's rows.
        const int slowEvents = 50, fastEvents = 10;
        Assert.True(slowEvents > MaxHeld);
        await EventsAsync(slow, "slow", 0, slowEvents);
        await EventsAsync(fast, "fast", 0, fastEvents);
        var gate = Hold("slow");
        var dispatcher = NewDispatcher();
        using var stop = new CancellationTokenSource();
        var worker = dispatcher.RunAsync(stop.Token);
        try
        {
            await Eventually.True(async () => (await DeliveriesAsync()).Count(d => d.Host == HostOf("fast") && d.State == WebhookDeliveryState.Delivered) == fastEvents,
                because: "the other host's rows are posted and recorded while the first hangs");
            Assert.Equal(PerHost, Recipients("slow").Count);
            Assert.True(dispatcher.InFlight <= MaxHeld);
            gate.SetResult();
            await Eventually.True(() => AllDeliveredAsync(slowEvents + fastEvents), because: "the hanging host's rows follow once it answers");
            await AssertEachRowPostedOnceAsync(slowEvents + fastEvents);
        }
        finally
        {
            gate.TrySetResult();
            await stop.CancelAsync();
            await worker;
        }
    }

    [Fact]
    public async Task AHostLeftOutOfAFullClaimGetsItsOlderRowsAtTheFirstClaimAfterItHasRoomAgain()
    {
        var a = await EndpointAsync("a");
        var b = await EndpointAsync("b");
        // Written one at a time (each its own NextAttemptAt): a0..a5, then a and b alternate (b0 a6 b1 a7 b2 a8 b3 a9),
        // then b4..b15.
        for (var i = 0; i < 6; i++)
            await EventsAsync(a, "a", i);
        for (var i = 0; i < 4; i++)
        {
            await EventsAsync(b, "b", i);
            await EventsAsync(a, "a", 6 + i);
        }
        for (var i = 4; i < 16; i++)
            await EventsAsync(b, "b", i);
        var gate = Hold("a");
        var dispatcher = NewDispatcher();
        var rounds = new List<Task>();
        // 1: a0..a3 (full). Its loops take a0 and a1 and hang, two wait.
        rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
        await Eventually.True(() => Task.FromResult(Recipients("a").Count == PerHost), because: "a's loops hold their POSTs");
        // 2: a4 a5 b0 a6 (full): a has five waiting now, more than a batch.
        rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
        // 3: a is left out: b1..b4 (full), past a7..a9.
        rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
        await Eventually.True(() => Task.FromResult(Recipients("b").Count == 5), because: "b's claimed rows are posted");
        Assert.Equal(["b0", "b1", "b2", "b3", "b4"], Recipients("b").Select(r => r[..r.IndexOf('@')]).Order());
        // a answers: its lane drains, every claimed row is recorded.
        gate.SetResult();
        await Task.WhenAll(rounds);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => Recipient("a", i)).Order(), Recipients("a").Order());
        // The next claim starts from the oldest due rows again: a7 a8 a9 b5, not b5..b8 after the rows claim 3 read.
        await Task.WhenAll(await dispatcher.StartDueAsync(CancellationToken.None));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => Recipient("a", i)).Order(), Recipients("a").Order());
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Recipient("b", i)).Order(), Recipients("b").Order());
        while ((await dispatcher.StartDueAsync(CancellationToken.None)) is { Count: > 0 } more)
            await Task.WhenAll(more);
        await AssertEachRowPostedOnceAsync(26);
    }

    [Fact]
    public async Task HeldRowsAreNotClaimedAgainAndOnlyPostgresWritesLeases()
    {
        var t = await EndpointAsync("held");
        const int events = 6;
        await EventsAsync(t, "held", 0, events);
        var gate = Hold("held");
        // As many POSTs in flight to the host as a batch, so its lane never has a batch waiting: no claim leaves the
        // host out, and only the held rows' exclusion keeps them from being claimed again.
        var dispatcher = NewDispatcher(perHost: Batch);
        var rounds = new List<Task>();
        try
        {
            // 1: the first batch (full: the next claim reads on from its last row).
            rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
            await Eventually.True(() => Task.FromResult(Recipients("held").Count == Batch), because: "the first batch is being posted");
            // 2: the rest (short: the next claim starts over). Written in one request, they share the first batch's
            // NextAttemptAt: the cursor's Id is what tells them from the rows claimed.
            rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
            Assert.Equal(events, dispatcher.InFlight);
            var now = Host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            var rows = await DeliveriesAsync();
            Assert.Equal(events, rows.Count);
            if (TestDatabase.IsPostgres)
                Assert.All(rows, d => Assert.True(d.LeaseOwner is { Length: > 0 } && d.LeaseUntil > now, $"{d.LeaseOwner} {d.LeaseUntil}"));
            else
                // One file, one process: the claim is a read, the rows are held in memory only.
                Assert.All(rows, d => Assert.Equal(((string?)null, 0L), (d.LeaseOwner, d.LeaseUntil)));
            Assert.All(rows, d => Assert.Equal(WebhookDeliveryState.Pending, d.State));
            // 3 and 4: every due row is held; nothing is claimed again, from the start or from anywhere.
            Assert.Empty(await dispatcher.StartDueAsync(CancellationToken.None));
            Assert.Empty(await dispatcher.StartDueAsync(CancellationToken.None));
            Assert.Equal(events, dispatcher.InFlight);
        }
        finally
        {
            gate.TrySetResult();
            await Task.WhenAll(rounds);
        }
        Assert.Equal(0, dispatcher.InFlight);
        Assert.Empty(await dispatcher.StartDueAsync(CancellationToken.None));
        Assert.Equal(Enumerable.Range(0, events).Select(i => Recipient("held", i)).Order(), Recipients("held").Order());
        await AssertEachRowPostedOnceAsync(events);
        Assert.All(await DeliveriesAsync(), d => Assert.Equal(((string?)null, 0L), (d.LeaseOwner, d.LeaseUntil)));
    }

    [Fact]
    public async Task RowsWhoseOutcomesCouldNotBeRecordedArePostedAgain()
    {
        var t = await EndpointAsync("unrecorded");
        const int events = 6;
        for (var i = 0; i < events; i++)
            await EventsAsync(t, "unrecorded", i);
        var dispatcher = NewDispatcher(perHost: Batch);
        // The record's transaction fails (its attempts cannot be inserted): the POSTs were made, their outcome is lost.
        await ExecuteAsync(TestDatabase.IsPostgres
            ? "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
            : "CREATE TRIGGER injected_failure BEFORE INSERT ON webhook_attempts BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
        if (TestDatabase.IsPostgres)
            await ExecuteAsync("CREATE TRIGGER injected_failure BEFORE INSERT ON webhook_attempts FOR EACH ROW EXECUTE FUNCTION injected_failure()");
        await Task.WhenAll(await dispatcher.StartDueAsync(CancellationToken.None));
        await ExecuteAsync("DROP TRIGGER injected_failure" + (TestDatabase.IsPostgres ? " ON webhook_attempts" : ""));
        var first = Enumerable.Range(0, Batch).Select(i => Recipient("unrecorded", i)).ToList();
        Assert.Equal(first, Recipients("unrecorded").Order());
        Assert.Equal(0, dispatcher.InFlight);
        Assert.All(await DeliveriesAsync(), d => Assert.Equal((WebhookDeliveryState.Pending, 0), (d.State, d.Attempts)));
        Assert.Empty(await AttemptsAsync());
        if (TestDatabase.IsPostgres)
            // Their leases stand (the release was part of the failed transaction): claimed again when they end.
            Host.Clock.Advance(new WebhookOptions().Lease + TimeSpan.FromSeconds(1));
        else
        {
            // SQLite: no longer held, and the claim starts over (its cursor had passed them): the next claim takes
            // them again at once, before the two rows no claim had reached.
            await Task.WhenAll(await dispatcher.StartDueAsync(CancellationToken.None));
            Assert.Equal(first.Concat(first).Order(), Recipients("unrecorded").Order());
        }
        for (var round = 0; round < 3; round++)
            await Task.WhenAll(await dispatcher.StartDueAsync(CancellationToken.None));
        // At least once: the four whose outcome was lost are posted twice, the other two once; each recorded once.
        Assert.Equal(first.Concat(Enumerable.Range(0, events).Select(i => Recipient("unrecorded", i))).Order(), Recipients("unrecorded").Order());
        Assert.All(await DeliveriesAsync(), d => Assert.Equal((WebhookDeliveryState.Delivered, 1), (d.State, d.Attempts)));
        Assert.Equal(events, (await AttemptsAsync()).Count);
    }

    /// <summary>
    /// A round that fails after its claim (here the read of the claimed rows' webhooks: the table is renamed for the
    /// round, as a transient error would make that read fail) must not keep its rows from the next claims for longer
    /// than a lease. PostgreSQL: the rows' leases end and they are claimed again. SQLite: the claim put them in the
    /// held set and nothing takes them out (StartAsync neither queues nor releases them), so this node never claims
    /// them again until it restarts.
    /// </summary>
    [Fact]
    public async Task RowsOfARoundThatFailsAfterItsClaimAreClaimedAgainNoLaterThanALeaseLater()
    {
        var t = await EndpointAsync("fails");
        const int events = 3;
        await EventsAsync(t, "fails", 0, events);
        var dispatcher = NewDispatcher();
        await ExecuteAsync("ALTER TABLE webhooks RENAME TO webhooks_away");
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => dispatcher.StartDueAsync(CancellationToken.None));
        }
        finally
        {
            await ExecuteAsync("ALTER TABLE webhooks_away RENAME TO webhooks");
        }
        Assert.Equal(0, dispatcher.InFlight);
        Assert.Empty(AllReceived);
        Host.Clock.Advance(new WebhookOptions().Lease + TimeSpan.FromSeconds(1));
        for (var round = 0; round < 3; round++)
            await Task.WhenAll(await dispatcher.StartDueAsync(CancellationToken.None));
        Assert.Equal(Enumerable.Range(0, events).Select(i => Recipient("fails", i)).Order(), Recipients("fails").Order());
        await AssertEachRowPostedOnceAsync(events);
    }

    [Fact]
    public async Task SqliteClaimsReadThePendingIndexByARangeFromTheStartFromTheCursorAndPastHeldRows()
    {
        Assert.SkipWhen(TestDatabase.IsPostgres, "the claim read from a cursor is SQLite's (PostgreSQL leases rows)");
        var t = await EndpointAsync("plan");
        const int events = 6;
        await EventsAsync(t, "plan", 0, events);
        // Rows that are no longer pending (delivered, the most of a grown store): the partial index leaves them out.
        await EventsAsync(t, "done", 0, 20);
        await ExecuteAsync("UPDATE webhook_deliveries SET \"State\" = 1 WHERE \"Id\" > (SELECT MIN(\"Id\") + 5 FROM webhook_deliveries)");
        var gate = Hold("plan");
        // The dispatcher's own claims, on the app's database, each statement traced as SQLite runs it.
        var statements = new List<string>();
        await using var provider = Traced(statements);
        var dispatcher = NewDispatcher(provider.GetRequiredService<IServiceScopeFactory>(), perHost: Batch);
        var rounds = new List<Task>();
        try
        {
            // From the start with nothing held; then from the cursor (the first claim was full); then from the start
            // again (the second was short) past every held row.
            rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
            // 60 s: CI once waited 20 s here in vain, with the suite's other assemblies running beside it.
            await Eventually.True(() => Task.FromResult(Recipients("plan").Count == Batch), timeoutSeconds: 60, because: "the first batch is being posted");
            rounds.AddRange(await dispatcher.StartDueAsync(CancellationToken.None));
            Assert.Empty(await dispatcher.StartDueAsync(CancellationToken.None));
        }
        finally
        {
            gate.TrySetResult();
            await Task.WhenAll(rounds);
        }
        List<string> claims;
        lock (statements)
            claims = statements.Where(s => s.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) && s.Contains("FROM webhook_deliveries", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, claims.Count);
        Assert.DoesNotContain("json_each", claims[0], StringComparison.Ordinal);
        Assert.Contains("(d.\"NextAttemptAt\", d.\"Id\") > (", claims[1], StringComparison.Ordinal);
        Assert.Contains("json_each", claims[2], StringComparison.Ordinal);
        await using var connection = new SqliteConnection(Host.Settings.DatabaseSettings.SqliteConnection);
        await connection.OpenAsync();
        foreach (var claim in claims)
        {
            var plan = await PlanAsync(connection, claim);
            // The due pending rows in the index's order (the ORDER BY is the index's, rowid last): a range of the partial
            // index, neither a scan of the table nor a sort of every due row.
            Assert.Contains("SEARCH d USING INDEX IX_webhook_deliveries_State_NextAttemptAt (", plan, StringComparison.Ordinal);
            Assert.Contains("NextAttemptAt<", plan, StringComparison.Ordinal);
            Assert.DoesNotContain(plan.Split('\n'), line => line.StartsWith("SCAN d", StringComparison.Ordinal) || line.StartsWith("SCAN webhook_deliveries", StringComparison.Ordinal));
            Assert.DoesNotContain("USE TEMP B-TREE FOR ORDER BY", plan, StringComparison.Ordinal);
            // The event by its key.
            Assert.Contains("SEARCH e USING INTEGER PRIMARY KEY (rowid=?)", plan, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RowsThatEndAlikeAreRecordedByOneUpdateThoughEachWasDueAtItsOwnTime()
    {
        Assert.SkipWhen(TestDatabase.IsPostgres, "statements are traced through SQLite");
        var t = await EndpointAsync("alike");
        // As many as the app's sender posts to one host at once (its connections per server).
        var events = new WebhookOptions().MaxConcurrencyPerHost;
        // One request each, the clock moving 1 ms after each: a NextAttemptAt per row.
        for (var i = 0; i < events; i++)
            await EventsAsync(t, "alike", i);
        var gate = Hold("alike");
        var statements = new List<string>();
        await using var provider = Traced(statements);
        // All claimed at once and posted at once (the receiver answers them together): their outcomes share a commit.
        var dispatcher = NewDispatcher(provider.GetRequiredService<IServiceScopeFactory>(), perHost: events, batch: events);
        var round = dispatcher.RunOnceAsync(CancellationToken.None);
        await Eventually.True(() => Task.FromResult(_receivers["alike"].Received.Count == events), timeoutSeconds: 60, because: "every row is being posted");
        gate.TrySetResult();
        Assert.Equal(events, await round);
        await AssertEachRowPostedOnceAsync(events);
        List<string> updates, inserts;
        lock (statements)
        {
            updates = statements.Where(s => s.StartsWith("UPDATE webhook_deliveries", StringComparison.Ordinal)).ToList();
            inserts = statements.Where(s => s.StartsWith("INSERT INTO webhook_attempts", StringComparison.Ordinal)).ToList();
        }
        // One UPDATE and one INSERT per commit of outcomes (delivered rows keep their own NextAttemptAt, so their times do
        // not split them); before, each distinct NextAttemptAt had an UPDATE of its own.
        Assert.NotEmpty(inserts);
        Assert.Equal(inserts.Count, updates.Count);
        Assert.True(updates.Count < events, $"{updates.Count} UPDATEs for {events} rows");
        Assert.All(updates, u => Assert.DoesNotContain("NextAttemptAt", u, StringComparison.Ordinal));
    }

    /// <summary>Services whose database is the app's, each statement SQLite runs on it added to <paramref name="statements"/>:
    /// a dispatcher built on their scopes has its own claims and records traced.</summary>
    private ServiceProvider Traced(List<string> statements)
    {
        var services = new ServiceCollection();
        services.AddDbContext<SqliteMailroomDb>(o => o.UseSqlite(Host.Settings.DatabaseSettings.SqliteConnection).AddInterceptors(new StatementTrace(statements)));
        services.AddScoped<MailroomDb>(sp => sp.GetRequiredService<SqliteMailroomDb>());
        return services.BuildServiceProvider();
    }

    /// <summary>SQLite's plan of a statement as it was traced (its parameters written in as literals), one line per step.</summary>
    private static async Task<string> PlanAsync(SqliteConnection connection, string sql)
    {
        await using var explain = connection.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + sql;
        await using var reader = await explain.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
            lines.Add(reader.GetString(3));
        return string.Join("\n", lines);
    }

    /// <summary>
    /// Records every statement SQLite runs on the connections of one DbContext options set, as SQLite traces it: the
    /// dispatcher's claim is a command of its own on EF's connection (no EF command interceptor sees it), so the trace
    /// is set on the connection itself when it opens.
    /// </summary>
    private sealed class StatementTrace(List<string> statements) : DbConnectionInterceptor
    {
        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Trace(connection);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Trace(connection);
            return Task.CompletedTask;
        }

        private void Trace(DbConnection connection)
        {
            if (connection is SqliteConnection { Handle: { } handle })
                SQLitePCL.raw.sqlite3_trace(handle, (_, sql) =>
                {
                    lock (statements)
                        statements.Add(sql.utf8_to_string());
                }, null);
        }
    }
}
