using System.Collections.Concurrent;
using System.Text.Json;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// Delivers the outbox: claims due <see cref="WebhookDelivery"/> rows under a lease (as delivery claims mail), posts
/// each with <see cref="WebhookSender"/>, and records every attempt and the row's next state in one transaction per
/// batch. At most <see cref="WebhookOptions.MaxConcurrencyPerHost"/> POSTs are in flight to one host (a semaphore per
/// host, shared by that host's batches) and at most <see cref="WebhookOptions.MaxConcurrency"/> in all, so a slow or
/// dead endpoint holds only its own slots: never mail delivery (another worker) nor other customers' webhooks.
/// A host may have <see cref="BatchesPerHost"/> batches claimed at once: the next batch is claimed while the current
/// one posts, and a batch records while the next one posts, so a busy endpoint is never idle waiting for the
/// database. A node that dies leaves its rows leased; they are claimed again when the lease ends (at least once).
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, WebhookSender sender, WebhookOptions options, TimeProvider clock,
    Secrets secrets, ILogger<WebhookDispatcher> log)
{
    /// <summary>Batches of one host claimed and not yet posted: two keep its POST slots busy across a claim.</summary>
    public const int BatchesPerHost = 2;

    private readonly string _owner = $"{options.NodeId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, HostLane> _hosts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _allSlots = new(Math.Max(1, options.MaxConcurrency));
    private int _inFlight;
    private int _openBatches;
    private readonly SemaphoreSlim _hostFreed = new(0);
    // This node's claims and records take turns: on SQLite two writers of one process would meet in the busy handler,
    // which sleeps (1, 2, 5... 100 ms) instead of queueing, and that sleep, not the work, was most of a batch's time.
    private readonly SemaphoreSlim _writeTurn = new(1);
    // Decrypted secrets and passwords by their protected text: Data Protection's unprotect per POST cost more than the
    // HMAC. Bounded; a rotated secret has new protected text, so nothing stale is used.
    private readonly ConcurrentDictionary<string, string> _unprotected = new(StringComparer.Ordinal);

    /// <summary>One destination host: its POST slots and how many of its batches are claimed and not yet posted.</summary>
    private sealed class HostLane(int slots)
    {
        public readonly SemaphoreSlim Slots = new(slots);
        public int Batches;
    }

    private string Unprotect(string protectedText)
    {
        if (_unprotected.TryGetValue(protectedText, out var plain))
            return plain;
        if (_unprotected.Count > 10_000)
            _unprotected.Clear();
        return _unprotected[protectedText] = secrets.UnprotectKey(protectedText);
    }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Claims what is due and posts it; returns when those POSTs are done (tests drive rounds with it).</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var (started, rows) = await StartAsync(ct);
        await Task.WhenAll(started);
        return rows;
    }

    /// <summary>
    /// Claims what is due and starts posting it: one task per destination host's batch, which posts the batch's rows
    /// within the host's slots and records their outcomes in one transaction. A host with
    /// <see cref="BatchesPerHost"/> batches not yet posted is left out of the next claims.
    /// </summary>
    public async Task<List<Task>> StartDueAsync(CancellationToken ct) => (await StartAsync(ct)).Tasks;

    /// <summary>
    /// The worker's loop: claims again at once while claims find rows (until every due host has its batches), else
    /// when a host's batch finishes posting or every half second. Ends with <paramref name="ct"/>.
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var running = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var claimed = 0;
                try
                {
                    var (tasks, rows) = await StartAsync(ct);
                    running.AddRange(tasks);
                    running.RemoveAll(t => t.IsCompleted);
                    claimed = rows;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Webhook round failed; retrying");
                }
                if (claimed == 0)
                    await _hostFreed.WaitAsync(TimeSpan.FromMilliseconds(500), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        // Rows not recorded stay leased and are claimed again (at least once); wait for those being posted.
        await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task<(List<Task> Tasks, int Rows)> StartAsync(CancellationToken ct)
    {
        var maxBatches = BatchesPerHost * Math.Max(1, options.MaxConcurrency / Math.Max(1, options.MaxConcurrencyPerHost));
        if (Volatile.Read(ref _openBatches) >= maxBatches)
            return ([], 0);
        List<WebhookDelivery> claimed;
        await _writeTurn.WaitAsync(ct);
        try
        {
            claimed = await ClaimAsync(ct);
        }
        finally
        {
            _writeTurn.Release();
        }
        if (claimed.Count == 0)
            return ([], 0);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var eventIds = claimed.Select(d => d.EventId).Distinct().ToList();
        var events = await db.WebhookEvents.AsNoTracking().Where(e => eventIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
        var hookIds = claimed.Where(d => d.WebhookId is not null).Select(d => d.WebhookId!.Value).Distinct().ToList();
        var hooks = (await db.Webhooks.AsNoTracking().Where(w => hookIds.Contains(w.Id)).ToListAsync(ct))
            .ToDictionary(w => w.Id, Prepare);
        var tasks = new List<Task>();
        foreach (var group in claimed.GroupBy(d => d.Host))
        {
            var rows = group.ToList();
            var lane = _hosts.GetOrAdd(group.Key, _ => new HostLane(Math.Max(1, options.MaxConcurrencyPerHost)));
            Interlocked.Increment(ref lane.Batches);
            Interlocked.Increment(ref _openBatches);
            Interlocked.Add(ref _inFlight, rows.Count);
            tasks.Add(Task.Run(async () =>
            {
                var batchOpen = true;
                try
                {
                    var results = new (WebhookDelivery Delivery, WebhookEvent? Event, WebhookSendResult? Result)[rows.Count];
                    // A batch starts POSTs for at most half its lease (a slow endpoint: timeouts one after another), so
                    // its rows are recorded while still leased to this node; rows it did not reach are released.
                    var postUntil = clock.GetUtcNow() + options.Lease / 2;
                    await Parallel.ForEachAsync(Enumerable.Range(0, rows.Count),
                        new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxConcurrencyPerHost), CancellationToken = ct },
                        async (i, token) =>
                        {
                            var d = rows[i];
                            var ev = events.GetValueOrDefault(d.EventId);
                            var hook = d.WebhookId is { } h ? hooks.GetValueOrDefault(h) : null;
                            results[i] = (d, ev, null);
                            // The host's slots bound POSTs in flight across its batches; the global slots across hosts.
                            await lane.Slots.WaitAsync(token);
                            if (clock.GetUtcNow() > postUntil)
                            {
                                lane.Slots.Release();
                                return;
                            }
                            try
                            {
                                await _allSlots.WaitAsync(token);
                                try
                                {
                                    results[i] = (d, ev, await SendOneAsync(d, ev, hook, token));
                                }
                                finally
                                {
                                    _allSlots.Release();
                                }
                            }
                            finally
                            {
                                lane.Slots.Release();
                            }
                        });
                    // The batch's POSTs are done: the host may be claimed again while this batch records (its rows
                    // stay leased until then), so the next batch's POSTs overlap this commit.
                    batchOpen = false;
                    CloseBatch(lane);
                    await RecordAsync(results, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Webhook deliveries to {Host} failed; they are tried again when their lease ends", group.Key);
                }
                finally
                {
                    Interlocked.Add(ref _inFlight, -rows.Count);
                    if (batchOpen)
                        CloseBatch(lane);
                }
            }, CancellationToken.None));
        }
        return (tasks, claimed.Count);
    }

    private void CloseBatch(HostLane lane)
    {
        Interlocked.Decrement(ref lane.Batches);
        Interlocked.Decrement(ref _openBatches);
        _hostFreed.Release();
    }

    /// <summary>Completes when a host's batch finishes posting (the worker claims again then, without waiting for its tick).</summary>
    public Task WaitHostFreedAsync(TimeSpan timeout, CancellationToken ct) => _hostFreed.WaitAsync(timeout, ct);

    /// <summary>A webhook as the batch posts it: its headers parsed and its secrets decrypted once, not per POST.</summary>
    private sealed record PreparedHook(string Url, IReadOnlyList<(string Name, string Value)> Headers, string? User, string? Password,
        string Secret, string? PreviousSecret);

    private PreparedHook Prepare(Webhook hook)
    {
        var headers = new List<(string, string)>();
        foreach (var h in JsonSerializer.Deserialize<List<Mailroom.Contracts.WebhookHeader>>(hook.HttpHeadersJson) ?? [])
            if (h.Name is { Length: > 0 } name)
                headers.Add((name, h.Value ?? ""));
        var previous = hook.PreviousSecretProtected is { } prev && hook.PreviousSecretUntil > clock.GetUtcNow().ToUnixTimeMilliseconds()
            ? Unprotect(prev) : null;
        return new PreparedHook(hook.Url, headers, hook.HttpAuthUsername,
            hook.HttpAuthPasswordProtected is { } p ? Unprotect(p) : null, Unprotect(hook.SecretProtected), previous);
    }

    private async Task<List<WebhookDelivery>> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var until = now + (long)options.Lease.TotalMilliseconds;
        var busy = _hosts.Where(h => Volatile.Read(ref h.Value.Batches) >= BatchesPerHost).Select(h => h.Key).Take(200).ToList();
        // Same pattern as mail delivery: SQLite has one writer, so UPDATE ... RETURNING is atomic; PostgreSQL skips rows
        // other nodes hold. At most ClaimBatch rows of one host (ROW_NUMBER per host), none of a host whose batches this
        // node has all claimed.
        var lockClause = db is PostgresMailroomDb ? " FOR UPDATE SKIP LOCKED" : "";
        var parameters = new List<object> { _owner, until, now, options.ClaimBatch, options.ClaimBatch * 8 };
        var skip = "";
        if (busy.Count > 0)
        {
            skip = " AND \"Host\" NOT IN (" + string.Join(", ", busy.Select((h, i) => $"{{{i + 5}}}")) + ")";
            parameters.AddRange(busy);
        }
        var sql = $$"""
            UPDATE webhook_deliveries SET "LeaseOwner" = {0}, "LeaseUntil" = {1}
            WHERE "Id" IN (SELECT "Id" FROM (SELECT "Id", ROW_NUMBER() OVER (PARTITION BY "Host" ORDER BY "NextAttemptAt", "Id") AS n
                                             FROM webhook_deliveries
                                             WHERE "State" = 0 AND "NextAttemptAt" <= {2} AND "LeaseUntil" <= {2}{{skip}}) due
                           WHERE due.n <= {3} LIMIT {4})
            RETURNING *
            """;
        if (lockClause.Length > 0)
            // PostgreSQL: lock the candidate rows first (window functions cannot take FOR UPDATE in the same SELECT).
            sql = sql.Replace("FROM webhook_deliveries\n", "FROM (SELECT * FROM webhook_deliveries WHERE \"State\" = 0" + lockClause + ") w\n");
        return await db.WebhookDeliveries.FromSqlRaw(sql, parameters.ToArray()).AsNoTracking().ToListAsync(ct);
    }

    private async Task<WebhookSendResult> SendOneAsync(WebhookDelivery d, WebhookEvent? ev, PreparedHook? hook, CancellationToken ct)
    {
        string url = hook?.Url ?? d.Url;
        if (ev is null || (d.WebhookId is not null && hook is null))
            // The webhook was deleted after the event was written (its rows go with it); nothing left to post.
            return new WebhookSendResult(false, false, 0, "The webhook or its event no longer exists.", 0);
        var inbound = ev.RecordType == Inbound.InboundRetrySchedule.RecordType;
        // Inbound payloads are posted as stored (their attachments' Content is not a trigger option).
        var body = inbound ? ev.PayloadJson : WebhookPayloads.Final(ev.PayloadJson, ev.BounceId, d.IncludeContent);
        var remaining = inbound ? Inbound.InboundRetrySchedule.RetriesRemaining(d.Attempts) : WebhookRetrySchedule.RetriesRemaining(d.Attempts);
        var headers = new List<(string, string)>((hook?.Headers.Count ?? 0) + 3)
        {
            ("X-PM-Retries-Remaining", remaining.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("X-PM-Webhook-Trace-Id", $"{ev.Id}-{d.Id}"),
        };
        if (hook is not null)
        {
            headers.AddRange(hook.Headers);
            headers.Add((WebhookSignature.Header, WebhookSignature.Sign(clock.GetUtcNow().ToUnixTimeSeconds(), body, hook.Secret, hook.PreviousSecret)));
        }
        return Uri.TryCreate(url, UriKind.Absolute, out var uri)
            ? await sender.SendAsync(new WebhookRequestPlan(uri, body, headers, hook?.User, hook?.Password), ct)
            : new WebhookSendResult(false, false, 0, $"Invalid URL '{url}'.", 0);
    }

    private const string InsertAttempt =
        "INSERT INTO webhook_attempts (\"DeliveryId\", \"EventId\", \"ServerId\", \"WebhookId\", \"RecordType\", \"At\", \"StatusCode\", " +
        "\"DurationMs\", \"Error\", \"Outcome\") VALUES (@DeliveryId, @EventId, @ServerId, @WebhookId, @RecordType, @At, @StatusCode, @DurationMs, @Error, @Outcome)";

    /// <summary>
    /// Records a batch's attempts and the rows' next states in one transaction, in few statements: rows that end the
    /// same way (most often "delivered at the first attempt, HTTP 200") are updated by one <c>UPDATE ... WHERE Id IN</c>,
    /// and attempts by one prepared statement. A statement per row and state cost more than the POSTs they record.
    /// </summary>
    private async Task RecordAsync((WebhookDelivery Delivery, WebhookEvent? Event, WebhookSendResult? Result)[] results, CancellationToken ct)
    {
        if (results.Length == 0)
            return;
        var now = clock.GetUtcNow();
        var rows = new List<(WebhookDelivery D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long Next, string Outcome, string Last)>();
        var released = new List<long>();
        foreach (var (d, ev, result) in results)
        {
            if (d is null)
                continue;
            if (result is not { } r)
            {
                released.Add(d.Id);
                continue;
            }
            var attempts = d.Attempts + 1;
            WebhookDeliveryState state;
            long next = d.NextAttemptAt;
            string outcome;
            if (ev?.RecordType == Inbound.InboundRetrySchedule.RecordType)
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
            var last = r.Success ? $"HTTP {r.StatusCode}" : r.Error;
            if (last.Length > 1000)
                last = last[..1000];
            rows.Add((d, ev?.RecordType ?? "", r, state, attempts, next, outcome, last));
            MailroomMetrics.WebhookAttempt(ev?.RecordType ?? "", outcome);
            if (!r.Success)
                log.LogInformation("Webhook {Delivery} to {Host}: {Outcome} ({Error})", d.Id, d.Host, outcome, r.Error);
        }
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
        List<(WebhookDelivery D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long Next, string Outcome, string Last)> rows,
        List<long> released, long at, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await using var statements = await RowStatements.BeginAsync(db, ct);
        var connection = statements.Transaction.Connection!;
        foreach (var same in rows.GroupBy(x => (x.State, x.Attempts, x.Next, x.Last)))
            foreach (var chunk in same.Chunk(500))
            {
                await using var update = connection.CreateCommand();
                update.Transaction = statements.Transaction;
                // Ids are the database's own integers, so they are written inline; the values are parameters.
                update.CommandText = "UPDATE webhook_deliveries SET \"State\" = @State, \"Attempts\" = @Attempts, \"NextAttemptAt\" = @NextAttemptAt, " +
                    "\"LeaseUntil\" = 0, \"LeaseOwner\" = NULL, \"LastResult\" = @LastResult WHERE \"Id\" IN (" +
                    string.Join(",", chunk.Select(x => x.D.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";
                Add(update, "@State", (int)same.Key.State);
                Add(update, "@Attempts", same.Key.Attempts);
                Add(update, "@NextAttemptAt", same.Key.Next);
                Add(update, "@LastResult", same.Key.Last);
                await update.ExecuteNonQueryAsync(ct);
            }
        foreach (var chunk in released.Chunk(500))
        {
            await using var release = connection.CreateCommand();
            release.Transaction = statements.Transaction;
            release.CommandText = "UPDATE webhook_deliveries SET \"LeaseUntil\" = 0, \"LeaseOwner\" = NULL WHERE \"Id\" IN (" +
                string.Join(",", chunk.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")";
            await release.ExecuteNonQueryAsync(ct);
        }
        // Attempts: one prepared INSERT run per row (SQLite reuses the statement; PostgreSQL gets one batch). A multi-row
        // INSERT was slower on SQLite: binding named parameters looks each one up by name, so 1,000 of them cost more
        // than the rows.
        await statements.ExecuteEachAsync(InsertAttempt, rows, (x, row) => row
            .Add("DeliveryId", x.D.Id).Add("EventId", x.D.EventId).Add("ServerId", x.D.ServerId).Add("WebhookId", x.D.WebhookId)
            .Add("RecordType", x.RecordType).Add("At", at).Add("StatusCode", x.R.StatusCode).Add("DurationMs", x.R.DurationMs)
            .Add("Error", x.R.Success ? "" : x.Last).Add("Outcome", x.Outcome), ct);
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

    private const string UpdateInboundStatus = "UPDATE inbound_messages SET \"Status\" = @Status WHERE \"WebhookEventId\" = @EventId";

    private static void Add(System.Data.Common.DbCommand command, string name, object? value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        command.Parameters.Add(p);
    }
}
