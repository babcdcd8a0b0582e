using System.Collections.Concurrent;
using System.Data.Common;
using System.Text.Json;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// Delivers the outbox: claims due <see cref="WebhookDelivery"/> rows (SQLite: held in memory; PostgreSQL: under a lease,
/// as delivery claims mail), posts each with <see cref="WebhookSender"/>, and records every attempt and the row's next state.
/// <para>A pipeline of three parts that never wait for each other: the claim (the due rows with their event's payload,
/// see <see cref="ClaimAsync"/>), a lane per destination host whose fixed set of at most
/// <see cref="WebhookOptions.MaxConcurrencyPerHost"/> posting loops takes the claimed rows one after another, and one
/// recorder that writes the outcomes that have come in since its last commit in one transaction (a group commit). So
/// at most that many POSTs are in flight to one host and at most <see cref="WebhookOptions.MaxConcurrency"/> in all; a
/// slow or dead endpoint holds only its own loops, never mail delivery (another worker) nor other customers' webhooks.
/// A host is claimed again while it still has <see cref="WebhookOptions.ClaimBatch"/> rows waiting, so its loops are
/// never idle waiting for the database.</para>
/// <para>A row stays claimed until its outcome is committed. A process that dies leaves its rows pending (SQLite: the
/// next run posts them at once) or leased (PostgreSQL: claimed again when the lease ends): at least once.</para>
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, WebhookSender sender, WebhookOptions options, TimeProvider clock,
    Secrets secrets, ILogger<WebhookDispatcher> log)
{
    /// <summary>Claimed rows of one host waiting for a posting loop, at most, in units of <see cref="WebhookOptions.ClaimBatch"/>:
    /// the host is claimed again when fewer than one batch wait, so up to two batches are held.</summary>
    public const int BatchesPerHost = 2;

    private readonly string _owner = $"{options.NodeId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, HostLane> _hosts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _allSlots = new(Math.Max(1, options.MaxConcurrency));
    private readonly int _perHost = Math.Max(1, options.MaxConcurrencyPerHost);
    private readonly int _batch = Math.Max(1, options.ClaimBatch);
    private int _inFlight;
    private readonly SemaphoreSlim _hostFreed = new(0);
    // This node's records take turns: on SQLite two writers of one process would meet in the busy handler, which sleeps
    // (1, 2, 5... 100 ms) instead of queueing, and that sleep, not the work, was most of a batch's time. Claims take
    // turns among themselves (_claimTurn), beside the records: on SQLite a claim only reads; on PostgreSQL its lease
    // UPDATE locks only unleased due rows (SKIP LOCKED: it never waits), while a record updates rows this node leases
    // (it could wait only for a row whose lease ran out meanwhile, and only for the length of one claim). Claims had
    // taken this turn too: 11,600-11,800 events/s in `bench webhooks --postgres` against 13,100 beside the records.
    private readonly SemaphoreSlim _writeTurn = new(1);
    // SQLite (one file, one process, so this dispatcher is its only claimer): the rows claimed and not yet recorded are
    // held here (Id -> NextAttemptAt) instead of leased in the database. Claims read on from a cursor, the
    // (NextAttemptAt, Id) of the last row of the last full claim, so they do not read past the held rows again; they
    // start over (skipping every held row) when a row may have been left behind the cursor: a claim came back short, a
    // row was released or its record failed, a host the cursor passed over (it had enough waiting) has room again, or
    // every few seconds (a producer's transaction that committed after the cursor passed its time).
    private readonly ConcurrentDictionary<long, long> _held = new();
    private readonly SemaphoreSlim _claimTurn = new(1);
    private (long At, long Id)? _cursor;
    private long _cursorSince;
    private volatile bool _rescan;
    private volatile bool _passedOver;
    private const long CursorLifetimeMs = 5_000;
    // Outcomes waiting for the recorder, how many, whether its loop runs, and the signal that enough of them wait.
    private readonly ConcurrentQueue<Item> _outcomes = new();
    private int _outcomeCount;
    private int _recording;
    private readonly SemaphoreSlim _outcomesReady = new(0);
    // Decrypted secrets and passwords by their protected text: Data Protection's unprotect per POST cost more than the
    // HMAC. Bounded; a rotated secret has new protected text, so nothing stale is used.
    private readonly ConcurrentDictionary<string, string> _unprotected = new(StringComparer.Ordinal);

    /// <summary>One destination host: its claimed rows not yet started and its posting loops.</summary>
    private sealed class HostLane
    {
        public readonly ConcurrentQueue<Item> Queue = new();
        public int Waiting;
        public int Loops;
    }

    /// <summary>The rows of one claim: <see cref="RunOnceAsync"/> waits until every one is recorded.</summary>
    private sealed class Claim(int rows)
    {
        private int _remaining = rows;
        public readonly TaskCompletionSource Recorded = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void RowRecorded()
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
                Recorded.TrySetResult();
        }
    }

    /// <summary>A claimed row with its event, and what came of its POST (null: not posted, the row is released).</summary>
    private sealed class Item
    {
        public long Id;
        public long EventId;
        public int ServerId;
        public int? WebhookId;
        public string Url = "";
        public string Host = "";
        public bool IncludeContent;
        public int Attempts;
        public long NextAttemptAt;
        /// <summary>Null when the event is gone (deleted with its server since the row was claimed).</summary>
        public string? RecordType;
        /// <summary>The event's payload as stored (UTF-8 JSON): posted as these bytes unless it needs a change.</summary>
        public byte[] Payload = [];
        public long? BounceId;
        public PreparedHook? Hook;
        public Claim Claim = null!;
        /// <summary>POSTs start until then (half the lease), so the outcome is recorded while the row is still ours.</summary>
        public DateTimeOffset PostUntil;
        public CancellationToken Token;
        public WebhookSendResult? Result;
    }

    private string Unprotect(string protectedText)
    {
        if (_unprotected.TryGetValue(protectedText, out var plain))
            return plain;
        if (_unprotected.Count > 10_000)
            _unprotected.Clear();
        return _unprotected[protectedText] = secrets.UnprotectKey(protectedText);
    }

    /// <summary>Rows claimed by this node and not yet recorded.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Claims what is due and posts it; returns when those rows are recorded (tests drive rounds with it).</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var (started, rows, _) = await StartAsync(_batch * 8, ct);
        await Task.WhenAll(started);
        return rows;
    }

    /// <summary>
    /// Claims what is due and hands it to the hosts' posting loops; the task completes when the claimed rows are
    /// recorded. Hosts with <see cref="BatchesPerHost"/> - 1 batches or more waiting are left out of the claim.
    /// </summary>
    public async Task<List<Task>> StartDueAsync(CancellationToken ct) => (await StartAsync(_batch, ct)).Tasks;

    /// <summary>Whether a host's lane has enough rows waiting that claims leave it out.</summary>
    private bool Busy(HostLane lane) => Volatile.Read(ref lane.Waiting) >= _batch * (BatchesPerHost - 1);

    /// <summary>
    /// The worker's loop: claims again at once while claims come back full and leave a host with room (more may be due
    /// for it or for hosts behind it), else when a host's waiting rows fall under one batch or every half second. A claim
    /// right after one that filled every host it found would only read past those hosts' rows to find nothing. Ends
    /// with <paramref name="ct"/>, after the rows it claimed are recorded or released.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var running = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var more = false;
                try
                {
                    var (tasks, _, again) = await StartAsync(_batch, ct);
                    running.AddRange(tasks);
                    running.RemoveAll(t => t.IsCompleted);
                    more = again;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Webhook round failed; retrying");
                }
                if (!more)
                    await _hostFreed.WaitAsync(TimeSpan.FromMilliseconds(500), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        // Rows not started are released by the loops; wait for those being posted and recorded.
        await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Completes when a host's waiting rows fall under one batch (the worker claims again then, without waiting for its tick).</summary>
    public Task WaitHostFreedAsync(TimeSpan timeout, CancellationToken ct) => _hostFreed.WaitAsync(timeout, ct);

    private void SignalHostFreed()
    {
        if (_passedOver)
        {
            _passedOver = false;
            _rescan = true;
        }
        // One pending signal is enough: the claim that follows serves every host with room.
        if (_hostFreed.CurrentCount == 0)
            _hostFreed.Release();
    }

    /// <summary>Claims and hands the rows to their lanes. <c>More</c>: the claim came back full and one of its hosts still
    /// has room, so claiming again at once is worth it.</summary>
    private async Task<(List<Task> Tasks, int Rows, bool More)> StartAsync(int limit, CancellationToken ct)
    {
        // Bounds this node's claimed rows: every host lane that can post at once, each with its batches waiting.
        var maxHeld = BatchesPerHost * _batch * Math.Max(1, options.MaxConcurrency / _perHost);
        if (Volatile.Read(ref _inFlight) >= maxHeld)
            return ([], 0, false);
        var (claimed, hooks) = await ClaimAsync(limit, ct);
        if (claimed.Count == 0)
            return ([], 0, false);
        var claim = new Claim(claimed.Count);
        var postUntil = clock.GetUtcNow() + options.Lease / 2;
        Interlocked.Add(ref _inFlight, claimed.Count);
        foreach (var item in claimed)
        {
            item.Hook = item.WebhookId is { } h ? hooks.GetValueOrDefault(h) : null;
            item.Claim = claim;
            item.PostUntil = postUntil;
            item.Token = ct;
        }
        var room = false;
        foreach (var group in claimed.GroupBy(d => d.Host))
        {
            var lane = _hosts.GetOrAdd(group.Key, _ => new HostLane());
            var count = 0;
            foreach (var item in group)
            {
                lane.Queue.Enqueue(item);
                count++;
            }
            Interlocked.Add(ref lane.Waiting, count);
            room |= !Busy(lane);
            StartLoops(lane);
        }
        return ([claim.Recorded.Task], claimed.Count, claimed.Count == limit && room);
    }

    /// <summary>Starts posting loops on a lane up to the host's limit (and no more than it has rows waiting).</summary>
    private void StartLoops(HostLane lane)
    {
        while (true)
        {
            var loops = Volatile.Read(ref lane.Loops);
            if (loops >= _perHost || loops >= Volatile.Read(ref lane.Waiting))
                return;
            if (Interlocked.CompareExchange(ref lane.Loops, loops + 1, loops) == loops)
                _ = Task.Run(() => PostLoopAsync(lane), CancellationToken.None);
        }
    }

    /// <summary>
    /// One of a host's posting loops: takes its rows one after another until none wait, then ends (a lane without rows
    /// holds no task). One loop per POST in flight, so a row costs no task nor semaphore wait of its own.
    /// </summary>
    private async Task PostLoopAsync(HostLane lane)
    {
        while (true)
        {
            while (lane.Queue.TryDequeue(out var item))
            {
                if (Interlocked.Decrement(ref lane.Waiting) == _batch * (BatchesPerHost - 1) - 1)
                    SignalHostFreed();
                // Posted here, not in a method of its own: the loop's one state machine serves every row.
                // Not posted (Result null, the row released at once): the caller stopped, or the claim is too old to post
                // and still record under its lease (a slow endpoint: timeouts one after another).
                if (!item.Token.IsCancellationRequested && clock.GetUtcNow() <= item.PostUntil)
                {
                    try
                    {
                        await _allSlots.WaitAsync(item.Token);
                        try
                        {
                            item.Result = await SendOneAsync(item, item.Token);
                        }
                        finally
                        {
                            _allSlots.Release();
                        }
                    }
                    catch (OperationCanceledException) when (item.Token.IsCancellationRequested)
                    {
                    }
                    catch (Exception e)
                    {
                        // Not an endpoint's answer (the sender turns those into results): released, tried again.
                        log.LogError(e, "Webhook delivery {Delivery} to {Host} failed before an answer; it is tried again", item.Id, item.Host);
                    }
                }
                Recorded(item);
            }
            Interlocked.Decrement(ref lane.Loops);
            // A row queued between the last TryDequeue and the decrement found this loop still counted: take it back.
            if (lane.Queue.IsEmpty)
                return;
            var loops = Volatile.Read(ref lane.Loops);
            if (loops >= _perHost || Interlocked.CompareExchange(ref lane.Loops, loops + 1, loops) != loops)
                return;
        }
    }

    /// <summary>Outcomes written in one transaction at least (a claim's worth), unless nothing else is being posted or the
    /// first has waited <see cref="RecordWait"/>: a commit's fixed part (transaction, statements, WAL frames) is shared
    /// among many rows (half a claim cost ~1 µs more per event in <c>bench webhooks</c>).</summary>
    private int RecordBatch => Math.Max(1, _batch);

    /// <summary>How long an outcome waits for others to share its commit, at most (far inside the lease).</summary>
    private static readonly TimeSpan RecordWait = TimeSpan.FromMilliseconds(20);

    /// <summary>Hands an outcome to the recorder, starting its loop if it is not running.</summary>
    private void Recorded(Item item)
    {
        _outcomes.Enqueue(item);
        var waiting = Interlocked.Increment(ref _outcomeCount);
        // Enough to share a commit, or every row this node holds is done: wake the recorder at once.
        if ((waiting == RecordBatch || waiting == Volatile.Read(ref _inFlight)) && _outcomesReady.CurrentCount == 0)
            _outcomesReady.Release();
        if (Interlocked.CompareExchange(ref _recording, 1, 0) == 0)
            _ = Task.Run(RecordLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// Writes the outcomes that came in since the last commit in one transaction, until none are left: while it
    /// commits, the loops post and the next transaction takes all they finished (a group commit). It waits (at most
    /// <see cref="RecordWait"/>) for <see cref="RecordBatch"/> outcomes while POSTs are still running, so a fast
    /// endpoint does not cost a commit per few rows.
    /// </summary>
    private async Task RecordLoopAsync()
    {
        var batch = new List<Item>();
        while (true)
        {
            var waiting = Volatile.Read(ref _outcomeCount);
            if (waiting > 0 && waiting < RecordBatch && waiting < Volatile.Read(ref _inFlight))
                await _outcomesReady.WaitAsync(RecordWait);
            while (batch.Count < 4 * _batch && _outcomes.TryDequeue(out var item))
                batch.Add(item);
            Interlocked.Add(ref _outcomeCount, -batch.Count);
            if (batch.Count == 0)
            {
                Volatile.Write(ref _recording, 0);
                // An outcome queued after the last TryDequeue saw the loop still running: take the loop back.
                if (_outcomes.IsEmpty || Interlocked.CompareExchange(ref _recording, 1, 0) != 0)
                    return;
                continue;
            }
            var recorded = false;
            try
            {
                // Not cancelled with the caller: outcomes of POSTs made are worth keeping (fewer duplicates after a stop).
                await RecordAsync(batch, CancellationToken.None);
                recorded = true;
            }
            catch (Exception e)
            {
                log.LogError(e, "Recording {Count} webhook outcomes failed; their rows are tried again (SQLite: at the next claim; PostgreSQL: when their lease ends)", batch.Count);
            }
            // After the commit: a claim that no longer finds a row held reads it as recorded (or due again, if it failed
            // or was released: then it may be behind the claim cursor).
            foreach (var item in batch)
            {
                _held.TryRemove(item.Id, out _);
                if (item.Result is null || !recorded)
                    _rescan = true;
            }
            Interlocked.Add(ref _inFlight, -batch.Count);
            foreach (var item in batch)
                item.Claim.RowRecorded();
            batch.Clear();
        }
    }

    /// <summary>A webhook as its rows are posted: its headers parsed and its secrets decrypted once a claim, not per POST.</summary>
    private sealed record PreparedHook(string Url, IReadOnlyList<(string Name, string Value)> Headers, string? User, string? Password,
        byte[] SecretKey, byte[]? PreviousSecretKey)
    {
        /// <summary>The URL parsed once a claim, not per POST (null: not an absolute URL).</summary>
        public Uri? Uri { get; } = System.Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri : null;
    }

    private PreparedHook Prepare(Webhook hook)
    {
        var headers = new List<(string, string)>();
        foreach (var h in JsonSerializer.Deserialize<List<Mailroom.Contracts.WebhookHeader>>(hook.HttpHeadersJson) ?? [])
            if (h.Name is { Length: > 0 } name)
                headers.Add((name, h.Value ?? ""));
        var previous = hook.PreviousSecretProtected is { } prev && hook.PreviousSecretUntil > clock.GetUtcNow().ToUnixTimeMilliseconds()
            ? Unprotect(prev) : null;
        return new PreparedHook(hook.Url, headers, hook.HttpAuthUsername,
            hook.HttpAuthPasswordProtected is { } p ? Unprotect(p) : null, System.Text.Encoding.UTF8.GetBytes(Unprotect(hook.SecretProtected)),
            previous is null ? null : System.Text.Encoding.UTF8.GetBytes(previous));
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> due rows, oldest first, of hosts that do not have enough waiting here, and
    /// returns them with their event. The candidates come in the order of the pending rows' (State, NextAttemptAt) index
    /// and stop at the limit, so a claim reads what it takes, not every pending row. An event that is gone (deleted with
    /// its server since) leaves RecordType null: the row is recorded as having nothing left to post.
    /// <list type="bullet">
    /// <item>SQLite is one file for one process, so this dispatcher is the only one that claims its rows: a claim is one
    /// read (the rows joined to their events) that skips the rows this dispatcher holds (<see cref="_held"/>), with no
    /// lease written. A crash leaves nothing to expire: the rows are still pending and the next run posts them (at least
    /// once).</item>
    /// <item>PostgreSQL may have several nodes: the rows are leased, as delivery claims mail. The candidates are locked
    /// with SKIP LOCKED, so nodes never claim the same row; a node that dies leaves its rows leased and they are claimed
    /// again when the lease ends. The events (immutable once written) are read by a second statement.</item>
    /// </list>
    /// </summary>
    private async Task<(List<Item> Rows, Dictionary<int, PreparedHook> Hooks)> ClaimAsync(int limit, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var postgres = db is PostgresMailroomDb;
        // Claims wait for other claims alone (see _writeTurn); on SQLite the held rows a claim skips are read inside its turn.
        await _claimTurn.WaitAsync(ct);
        try
        {
            // Hosts with enough waiting, as of this turn.
            var busy = _hosts.Where(h => Busy(h.Value)).Select(h => h.Key).Take(200).ToList();
            await db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = db.Database.GetDbConnection();
                var rows = postgres ? await ClaimLeasedAsync(connection, limit, now, busy, ct) : await ClaimHeldAsync(connection, limit, now, busy, ct);
                // Their webhooks, read on the same connection: headers parsed and secrets decrypted once a claim.
                var hooks = new Dictionary<int, PreparedHook>();
                var hookIds = rows.Where(d => d.WebhookId is not null).Select(d => d.WebhookId!.Value).Distinct().ToList();
                try
                {
                    if (hookIds.Count > 0)
                        foreach (var w in await WebhooksAsync(connection, hookIds, ct))
                            hooks[w.Id] = Prepare(w);
                }
                catch when (!postgres)
                {
                    // Not handed to a lane, so never recorded: let them go (PostgreSQL's leases end by themselves).
                    foreach (var row in rows)
                        _held.TryRemove(row.Id, out _);
                    _rescan = true;
                    throw;
                }
                return (rows, hooks);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        finally
        {
            _claimTurn.Release();
        }
    }

    /// <summary>The webhooks a claim posts for, the columns <see cref="Prepare"/> reads: one plain command on the claim's
    /// connection (an EF query cost ~0.5 µs an event more, in building and matching its expression each claim).</summary>
    private static async Task<List<Webhook>> WebhooksAsync(DbConnection connection, List<int> ids, CancellationToken ct)
    {
        var hooks = new List<Webhook>(ids.Count);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Id\", \"Url\", \"HttpHeadersJson\", \"HttpAuthUsername\", \"HttpAuthPasswordProtected\", \"SecretProtected\", " +
            "\"PreviousSecretProtected\", \"PreviousSecretUntil\" FROM webhooks WHERE \"Id\" IN (" + Ids(ids.Select(i => (long)i)) + ")";
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            hooks.Add(new Webhook
            {
                Id = reader.GetInt32(0),
                Url = reader.GetString(1),
                HttpHeadersJson = reader.GetString(2),
                HttpAuthUsername = reader.IsDBNull(3) ? null : reader.GetString(3),
                HttpAuthPasswordProtected = reader.IsDBNull(4) ? null : reader.GetString(4),
                SecretProtected = reader.GetString(5),
                PreviousSecretProtected = reader.IsDBNull(6) ? null : reader.GetString(6),
                PreviousSecretUntil = reader.GetInt64(7),
            });
        return hooks;
    }

    /// <summary><c> AND "Host" NOT IN (@h0, ...)</c>, the hosts that have enough rows waiting here; empty when none.</summary>
    private static string SkipHosts(DbCommand command, List<string> busy)
    {
        for (var i = 0; i < busy.Count; i++)
            Add(command, $"@h{i}", busy[i]);
        return busy.Count == 0 ? "" : " AND \"Host\" NOT IN (" + string.Join(", ", busy.Select((_, i) => $"@h{i}")) + ")";
    }

    /// <summary>The row's Url only for a row without a webhook (a server's legacy hook URL): a webhook's rows are posted to
    /// its current Url, so theirs is not read (a string per row).</summary>
    private const string ClaimedColumns =
        "d.\"Id\", d.\"EventId\", d.\"ServerId\", d.\"WebhookId\", CASE WHEN d.\"WebhookId\" IS NULL THEN d.\"Url\" ELSE '' END, d.\"Host\", d.\"IncludeContent\", d.\"Attempts\", d.\"NextAttemptAt\"";

    private static Item ReadClaimed(DbDataReader reader) => new()
    {
        Id = reader.GetInt64(0),
        EventId = reader.GetInt64(1),
        ServerId = reader.GetInt32(2),
        WebhookId = reader.IsDBNull(3) ? null : reader.GetInt32(3),
        Url = reader.GetString(4),
        Host = reader.GetString(5),
        IncludeContent = reader.GetBoolean(6),
        Attempts = reader.GetInt32(7),
        NextAttemptAt = reader.GetInt64(8),
    };

    /// <summary>SQLite: one read of the due rows not held here, with their events, from the claim cursor on (see
    /// <see cref="_held"/>); the rows it returns are held.</summary>
    private async Task<List<Item>> ClaimHeldAsync(DbConnection connection, int limit, long now, List<string> busy, CancellationToken ct)
    {
        if (_rescan || (_cursor is not null && Environment.TickCount64 - _cursorSince > CursorLifetimeMs))
        {
            _rescan = false;
            _cursor = null;
        }
        var cursor = _cursor;
        // Set before the read too: a host left out that frees up while the claim runs makes the next claim start over.
        if (busy.Count > 0)
            _passedOver = true;
        var items = new List<Item>();
        await using (var command = connection.CreateCommand())
        {
            var skip = SkipHosts(command, busy);
            var after = "";
            if (cursor is { } c)
            {
                after = " AND (d.\"NextAttemptAt\", d.\"Id\") > (@afterAt, @afterId)";
                Add(command, "@afterAt", c.At);
                Add(command, "@afterId", c.Id);
            }
            // Held rows the cursor has not passed: all of them when starting over, else usually none.
            var exclude = new List<long>();
            foreach (var (id, at) in _held)
                if (cursor is not { } k || at > k.At || (at == k.At && id > k.Id))
                    exclude.Add(id);
            var held = "";
            if (exclude.Count > 0)
            {
                // One parameter (a JSON array) instead of a literal list the parser reads again each claim.
                held = " AND d.\"Id\" NOT IN (SELECT value FROM json_each(@held))";
                Add(command, "@held", "[" + Ids(exclude) + "]");
            }
            // LeaseUntil: rows a previous run leased are released at start (Nodes.ReleasePreviousRunAsync); none is leased since.
            command.CommandText = $$"""
                SELECT {{ClaimedColumns}}, e."RecordType", e."PayloadJson", e."BounceId"
                FROM webhook_deliveries AS d LEFT JOIN webhook_events AS e ON e."Id" = d."EventId"
                WHERE d."State" = 0 AND d."NextAttemptAt" <= @now AND d."LeaseUntil" <= @now{{skip}}{{after}}{{held}}
                ORDER BY d."NextAttemptAt", d."Id" LIMIT @limit
                """;
            Add(command, "@now", now);
            Add(command, "@limit", limit);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var item = ReadClaimed(reader);
                if (!reader.IsDBNull(9))
                {
                    item.RecordType = reader.GetString(9);
                    // SQLite hands TEXT out as its UTF-8 bytes: no string decoded and encoded again per row.
                    item.Payload = reader.GetFieldValue<byte[]>(10);
                    item.BounceId = reader.IsDBNull(11) ? null : reader.GetInt64(11);
                }
                items.Add(item);
            }
        }
        foreach (var item in items)
            _held[item.Id] = item.NextAttemptAt;
        if (items.Count == limit)
        {
            // Full: read on from its last row next time. Rows of hosts it left out may now be behind the cursor.
            if (cursor is null)
                _cursorSince = Environment.TickCount64;
            _cursor = (items[^1].NextAttemptAt, items[^1].Id);
            if (busy.Count > 0)
                _passedOver = true;
        }
        else if (items.Count > 0 || busy.Count == 0)
            // Short: every due row not left out was read; the next claim starts over (it finds what committed meanwhile).
            _cursor = null;
        // Empty with hosts left out: the cursor stays (it passed nothing); those hosts free up, or it ages out.
        return items;
    }

    /// <summary>
    /// PostgreSQL: leases the due rows (UPDATE ... RETURNING over candidates locked with SKIP LOCKED), then reads their
    /// events by one <c>= ANY</c> SELECT: three correlated subqueries in RETURNING (one per column) cost more than the
    /// UPDATE and this SELECT together.
    /// </summary>
    private async Task<List<Item>> ClaimLeasedAsync(DbConnection connection, int limit, long now, List<string> busy, CancellationToken ct)
    {
        var until = now + (long)options.Lease.TotalMilliseconds;
        var items = new List<Item>();
        // The lease is committed without waiting for its WAL to reach the disk, as the outcomes are (RelaxCommitsAsync):
        // a lease lost with the database server's crash leaves its rows to be claimed again (a second POST, at least
        // once), and a claim (one per 500 rows) no longer waits for an fsync.
        await using (var transaction = await connection.BeginTransactionAsync(ct))
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            var skip = SkipHosts(command, busy);
            command.CommandText = $$"""
                SET LOCAL synchronous_commit = off;
                UPDATE webhook_deliveries AS d SET "LeaseOwner" = @owner, "LeaseUntil" = @until
                WHERE d."Id" IN (SELECT "Id" FROM webhook_deliveries
                                 WHERE "State" = 0 AND "NextAttemptAt" <= @now AND "LeaseUntil" <= @now{{skip}}
                                 ORDER BY "NextAttemptAt" LIMIT @limit FOR UPDATE SKIP LOCKED)
                RETURNING {{ClaimedColumns}}
                """;
            Add(command, "@owner", _owner);
            Add(command, "@until", until);
            Add(command, "@now", now);
            Add(command, "@limit", limit);
            await using (var reader = await command.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    items.Add(ReadClaimed(reader));
            await transaction.CommitAsync(ct);
        }
        if (items.Count == 0)
            return items;
        var byEvent = new Dictionary<long, List<Item>>();
        foreach (var item in items)
        {
            if (!byEvent.TryGetValue(item.EventId, out var list))
                byEvent[item.EventId] = list = new List<Item>(1);
            list.Add(item);
        }
        await using (var events = connection.CreateCommand())
        {
            events.CommandText = "SELECT \"Id\", \"RecordType\", \"PayloadJson\", \"BounceId\" FROM webhook_events WHERE \"Id\" = ANY(@ids)";
            Add(events, "@ids", byEvent.Keys.ToArray());
            await using var reader = await events.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var recordType = reader.GetString(1);
                var payload = System.Text.Encoding.UTF8.GetBytes(reader.GetString(2));
                long? bounceId = reader.IsDBNull(3) ? null : reader.GetInt64(3);
                foreach (var item in byEvent[reader.GetInt64(0)])
                {
                    item.RecordType = recordType;
                    item.Payload = payload;
                    item.BounceId = bounceId;
                }
            }
        }
        return items;
    }

    /// <summary>
    /// The dispatcher's own writes (outcomes, attempts; on PostgreSQL also leases) are committed without an fsync of
    /// their own: SQLite <c>synchronous=NORMAL</c> in WAL mode (PostgreSQL: <c>synchronous_commit = off</c> for the
    /// transaction). Such a commit survives a crash of the process (kill -9: the WAL is in the OS's cache) and is made durable by the next
    /// full commit or checkpoint; only a power loss can undo it, and what it undoes costs a second POST of an event
    /// (at least once), never the event: the event and its delivery row were committed in full by their producer.
    /// Two fsyncs per claim and per record were most of the dispatcher's time on a busy disk. Returns whether the
    /// SQLite connection must be set back (<see cref="RestoreCommitsAsync"/>) before it returns to the pool.
    /// </summary>
    private static async Task<bool> RelaxCommitsAsync(MailroomDb db, CancellationToken ct)
    {
        if (db is PostgresMailroomDb)
            return false;
        await using var pragma = db.Database.GetDbConnection().CreateCommand();
        pragma.CommandText = "PRAGMA synchronous=NORMAL";
        await pragma.ExecuteNonQueryAsync(ct);
        return true;
    }

    /// <summary>Sets the pooled SQLite connection back to full commits: the next user of it (mail acceptance) answers
    /// only after an fsync. A connection that cannot be set back is not reused.</summary>
    private static async Task RestoreCommitsAsync(MailroomDb db)
    {
        var connection = db.Database.GetDbConnection();
        try
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=FULL";
            await pragma.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch
        {
            if (connection is Microsoft.Data.Sqlite.SqliteConnection sqlite)
                Microsoft.Data.Sqlite.SqliteConnection.ClearPool(sqlite);
            throw;
        }
    }

    /// <summary>The row's POST (or its result when there is nothing to post); not async itself, so a POST costs one state
    /// machine fewer.</summary>
    private Task<WebhookSendResult> SendOneAsync(Item d, CancellationToken ct)
    {
        var hook = d.Hook;
        string url = hook?.Url ?? d.Url;
        if (d.RecordType is null || (d.WebhookId is not null && hook is null))
            // The webhook was deleted after the event was written (its rows go with it); nothing left to post.
            return Task.FromResult(new WebhookSendResult(false, false, 0, "The webhook or its event no longer exists.", 0));
        var inbound = d.RecordType == Inbound.InboundRetrySchedule.RecordType;
        // Inbound payloads are posted as stored (their attachments' Content is not a trigger option). Encoded once: signed
        // and posted as these bytes.
        var bytes = inbound ? d.Payload : WebhookPayloads.Final(d.Payload, d.BounceId, d.IncludeContent);
        var remaining = inbound ? Inbound.InboundRetrySchedule.RetriesRemaining(d.Attempts) : WebhookRetrySchedule.RetriesRemaining(d.Attempts);
        var headers = new List<(string, string)>((hook?.Headers.Count ?? 0) + 3)
        {
            ("X-PM-Retries-Remaining", (uint)remaining < (uint)SmallNumbers.Length ? SmallNumbers[remaining] : remaining.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("X-PM-Webhook-Trace-Id", $"{d.EventId}-{d.Id}"),
        };
        if (hook is not null)
        {
            headers.AddRange(hook.Headers);
            headers.Add((WebhookSignature.Header, WebhookSignature.Sign(clock.GetUtcNow().ToUnixTimeSeconds(), bytes, hook.SecretKey, hook.PreviousSecretKey)));
        }
        return (hook is not null ? hook.Uri : Uri.TryCreate(url, UriKind.Absolute, out var parsed) ? parsed : null) is { } uri
            ? sender.SendAsync(new WebhookRequestPlan(uri, bytes, headers, hook?.User, hook?.Password), ct)
            : Task.FromResult(new WebhookSendResult(false, false, 0, $"Invalid URL '{url}'.", 0));
    }

    /// <summary>"0" to "15": retries remaining, without a string per POST.</summary>
    private static readonly string[] SmallNumbers = Enumerable.Range(0, 16).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private const string InsertAttempt =
        "INSERT INTO webhook_attempts (\"DeliveryId\", \"EventId\", \"ServerId\", \"WebhookId\", \"RecordType\", \"At\", \"StatusCode\", " +
        "\"DurationMs\", \"Error\", \"Outcome\") VALUES (@DeliveryId, @EventId, @ServerId, @WebhookId, @RecordType, @At, @StatusCode, @DurationMs, @Error, @Outcome)";

    /// <summary>
    /// Records outcomes' attempts and the rows' next states in one transaction, in few statements: rows that end the
    /// same way (most often "delivered at the first attempt, HTTP 200") are updated by one <c>UPDATE ... WHERE Id IN</c>,
    /// and their attempts written by one <c>INSERT</c> (SQLite) or one prepared statement sent as a batch (PostgreSQL).
    /// A statement per row and state cost more than the POSTs they record.
    /// </summary>
    private async Task RecordAsync(List<Item> results, CancellationToken ct)
    {
        if (results.Count == 0)
            return;
        var now = clock.GetUtcNow();
        var rows = new List<(Item D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long? Next, string Outcome, string Last)>(results.Count);
        var released = new List<long>();
        foreach (var d in results)
        {
            if (d.Result is not { } r)
            {
                released.Add(d.Id);
                continue;
            }
            var attempts = d.Attempts + 1;
            WebhookDeliveryState state;
            // Set only for a retry: a row that ends keeps its NextAttemptAt, so the rows of a batch that end alike share one
            // UPDATE (their NextAttemptAt, the events' own times, differ row by row).
            long? next = null;
            string outcome;
            if (d.RecordType == Inbound.InboundRetrySchedule.RecordType)
            {
                // Inbound (spec §10.4): only 200 succeeds, 403 stops, anything else (or no answer) waits for the next row
                // of the inbound schedule; a refused destination cannot improve and fails at once.
                if (r.Success && Inbound.InboundRetrySchedule.IsSuccess(r.StatusCode))
                    (state, outcome) = (WebhookDeliveryState.Delivered, "Done");
                else if (Inbound.InboundRetrySchedule.Stops(r.StatusCode) || (r.StatusCode == 0 && !r.Retry))
                    (state, outcome) = (WebhookDeliveryState.Failed, "Failed");
                else if (Inbound.InboundRetrySchedule.Next(attempts) is { } inboundDelay)
                {
                    (state, outcome) = (WebhookDeliveryState.Pending, "Retry");
                    next = (now + inboundDelay).ToUnixTimeMilliseconds();
                }
                else
                    (state, outcome) = (WebhookDeliveryState.Failed, "Failed");
                r = r with { Success = state == WebhookDeliveryState.Delivered, Error = r.Error.Length == 0 && state != WebhookDeliveryState.Delivered ? $"HTTP {r.StatusCode}" : r.Error };
            }
            else if (r.Success)
                (state, outcome) = (WebhookDeliveryState.Delivered, "Done");
            else if (!r.Retry)
                (state, outcome) = (WebhookDeliveryState.Dropped, "Dropped");
            else if (WebhookRetrySchedule.Next(attempts) is { } delay)
            {
                (state, outcome) = (WebhookDeliveryState.Pending, "Retry");
                next = (now + delay).ToUnixTimeMilliseconds();
            }
            else
                (state, outcome) = (WebhookDeliveryState.Failed, "Failed");
            var last = r.Success ? (r.StatusCode == 200 ? "HTTP 200" : $"HTTP {r.StatusCode}") : r.Error;
            if (last.Length > 1000)
                last = last[..1000];
            rows.Add((d, d.RecordType ?? "", r, state, attempts, next, outcome, last));
            if (!r.Success)
                log.LogInformation("Webhook {Delivery} to {Host}: {Outcome} ({Error})", d.Id, d.Host, outcome, r.Error);
        }
        // Counted per record type and outcome once a batch (most batches are one kind), not once per row.
        foreach (var kind in Kinds(rows, x => (x.RecordType, x.Outcome)))
            MailroomMetrics.WebhookAttempt(kind.Key.RecordType, kind.Key.Outcome, kind.Count());
        var at = now.ToUnixTimeMilliseconds();
        await _writeTurn.WaitAsync(ct);
        try
        {
            await WriteOutcomesAsync(rows, released, at, ct);
        }
        finally
        {
            _writeTurn.Release();
        }
    }

    private async Task WriteOutcomesAsync(
        List<(Item D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long? Next, string Outcome, string Last)> rows,
        List<long> released, long at, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await db.Database.OpenConnectionAsync(ct);
        var relaxed = await RelaxCommitsAsync(db, ct);
        try
        {
            await WriteOutcomesAsync(db, rows, released, at, ct);
        }
        finally
        {
            if (relaxed)
                await RestoreCommitsAsync(db);
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task WriteOutcomesAsync(MailroomDb db,
        List<(Item D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long? Next, string Outcome, string Last)> rows,
        List<long> released, long at, CancellationToken ct)
    {
        await using var statements = await RowStatements.BeginAsync(db, ct);
        var connection = statements.Transaction.Connection!;
        if (statements.Postgres)
        {
            await using var relax = connection.CreateCommand();
            relax.Transaction = statements.Transaction;
            relax.CommandText = "SET LOCAL synchronous_commit = off";
            await relax.ExecuteNonQueryAsync(ct);
        }
        foreach (var same in Kinds(rows, x => (x.State, x.Attempts, x.Next, x.Last)))
            foreach (var chunk in same.Chunk(500))
            {
                await using var update = connection.CreateCommand();
                update.Transaction = statements.Transaction;
                // Ids are the database's own integers, so they are written inline; the values are parameters.
                update.CommandText = "UPDATE webhook_deliveries SET \"State\" = @State, \"Attempts\" = @Attempts, " +
                    (same.Key.Next is null ? "" : "\"NextAttemptAt\" = @NextAttemptAt, ") +
                    "\"LeaseUntil\" = 0, \"LeaseOwner\" = NULL, \"LastResult\" = @LastResult WHERE \"Id\" IN (" +
                    Ids(chunk.Select(x => x.D.Id)) + ")";
                Add(update, "@State", (int)same.Key.State);
                Add(update, "@Attempts", same.Key.Attempts);
                if (same.Key.Next is { } nextAt)
                    Add(update, "@NextAttemptAt", nextAt);
                Add(update, "@LastResult", same.Key.Last);
                await update.ExecuteNonQueryAsync(ct);
            }
        // SQLite holds its claims in memory (nothing to release in the database); PostgreSQL ends the rows' leases.
        foreach (var chunk in statements.Postgres ? released.Chunk(500) : [])
        {
            await using var release = connection.CreateCommand();
            release.Transaction = statements.Transaction;
            release.CommandText = "UPDATE webhook_deliveries SET \"LeaseUntil\" = 0, \"LeaseOwner\" = NULL WHERE \"Id\" IN (" +
                Ids(chunk) + ")";
            await release.ExecuteNonQueryAsync(ct);
        }
        if (statements.Postgres)
            // Attempts: one prepared INSERT per row, sent as one batch.
            await statements.ExecuteEachAsync(InsertAttempt, rows, (x, row) => row
                .Add("DeliveryId", x.D.Id).Add("EventId", x.D.EventId).Add("ServerId", x.D.ServerId).Add("WebhookId", x.D.WebhookId)
                .Add("RecordType", x.RecordType).Add("At", at).Add("StatusCode", x.R.StatusCode).Add("DurationMs", x.R.DurationMs)
                .Add("Error", x.R.Success ? "" : x.Last).Add("Outcome", x.Outcome), ct);
        else
            // SQLite: one INSERT ... SELECT FROM (VALUES ...) per 500 rows that share their strings (record type, error,
            // outcome: one group for "delivered"), the integers written inline and the strings as parameters. Binding is
            // what a statement run per row cost (Microsoft.Data.Sqlite binds each parameter by name, per run): more
            // than SQLite's own insert. 1,000 named parameters in one statement, or a JSON array read by json_each, cost
            // more still (measured before: 4.4 against 3.6 µs a row for the statement per row).
            foreach (var same in Kinds(rows, x => (x.RecordType, x.Outcome, Error: x.R.Success ? "" : x.Last)))
                foreach (var chunk in same.Chunk(500))
                {
                    var values = new System.Text.StringBuilder(chunk.Length * 40);
                    foreach (var x in chunk)
                    {
                        values.Append(values.Length == 0 ? "(" : ",(").Append(x.D.Id).Append(',').Append(x.D.EventId).Append(',').Append(x.D.ServerId).Append(',');
                        if (x.D.WebhookId is { } w)
                            values.Append(w);
                        else
                            values.Append("NULL");
                        values.Append(',').Append(x.R.StatusCode).Append(',').Append(x.R.DurationMs).Append(')');
                    }
                    await using var insert = connection.CreateCommand();
                    insert.Transaction = statements.Transaction;
                    insert.CommandText = "INSERT INTO webhook_attempts (\"DeliveryId\", \"EventId\", \"ServerId\", \"WebhookId\", \"RecordType\", \"At\", " +
                        "\"StatusCode\", \"DurationMs\", \"Error\", \"Outcome\") SELECT column1, column2, column3, column4, @RecordType, @At, column5, column6, " +
                        "@Error, @Outcome FROM (VALUES " + values + ")";
                    Add(insert, "@RecordType", same.Key.RecordType);
                    Add(insert, "@At", at);
                    Add(insert, "@Error", same.Key.Error);
                    Add(insert, "@Outcome", same.Key.Outcome);
                    await insert.ExecuteNonQueryAsync(ct);
                }
        // Inbound rows carry their message's status (spec §8.2): Processed, Scheduled (a retry is due) or Failed.
        var inboundRows = rows.Where(x => x.RecordType == Inbound.InboundRetrySchedule.RecordType).ToList();
        if (inboundRows.Count > 0)
            await statements.ExecuteEachAsync(UpdateInboundStatus, inboundRows, (x, row) => row
                .Add("EventId", x.D.EventId)
                .Add("Status", (int)(x.State switch
                {
                    WebhookDeliveryState.Delivered => Inbound.InboundStatus.Processed,
                    WebhookDeliveryState.Pending => Inbound.InboundStatus.Scheduled,
                    _ => Inbound.InboundStatus.Failed,
                })), ct);
        await statements.CommitAsync(ct);
    }

    /// <summary>
    /// The rows grouped by a key, as GroupBy, with a shortcut for the common batch whose rows all share one key ("delivered
    /// at the first attempt"): one comparison per row with the first, instead of hashing each row's key (its strings) into
    /// a lookup. Metrics count a group's rows.
    /// </summary>
    private static IEnumerable<IGrouping<TKey, T>> Kinds<T, TKey>(List<T> rows, Func<T, TKey> key) where TKey : IEquatable<TKey>
    {
        if (rows.Count == 0)
            return [];
        var first = key(rows[0]);
        for (var i = 1; i < rows.Count; i++)
            if (!key(rows[i]).Equals(first))
                return rows.GroupBy(key);
        return [new OneKind<TKey, T>(first, rows)];
    }

    private sealed class OneKind<TKey, T>(TKey key, List<T> rows) : IGrouping<TKey, T>
    {
        public TKey Key => key;
        public IEnumerator<T> GetEnumerator() => rows.GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Database ids written inline, comma-separated (they are the database's own integers).</summary>
    private static string Ids(IEnumerable<long> ids)
    {
        var text = new System.Text.StringBuilder();
        foreach (var id in ids)
            (text.Length == 0 ? text : text.Append(',')).Append(id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return text.ToString();
    }

    private const string UpdateInboundStatus = "UPDATE inbound_messages SET \"Status\" = @Status WHERE \"WebhookEventId\" = @EventId";

    private static void Add(System.Data.Common.DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
    }
}
