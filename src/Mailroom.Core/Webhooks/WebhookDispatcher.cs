using System.Collections.Concurrent;
using System.Text.Json;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// Delivers the outbox: claims due <see cref="WebhookDelivery"/> rows under a lease (as delivery claims mail), posts
/// each with <see cref="WebhookSender"/>, and records every attempt and the row's next state in one transaction. At
/// most <see cref="WebhookOptions.MaxConcurrencyPerHost"/> POSTs are in flight to one host and the claim skips hosts
/// that are full, so a slow or dead endpoint holds only its own slots: never mail delivery (another worker) nor other
/// customers' webhooks. A node that dies leaves its rows leased; they are claimed again when the lease ends (at least
/// once), and at the next start at once.
/// </summary>
public sealed class WebhookDispatcher(IServiceScopeFactory scopes, WebhookSender sender, WebhookOptions options, TimeProvider clock,
    Secrets secrets, ILogger<WebhookDispatcher> log)
{
    private readonly string _owner = $"{options.NodeId}/{Guid.NewGuid():N}";
    private readonly ConcurrentDictionary<string, bool> _busyHosts = new(StringComparer.Ordinal);
    private int _inFlight;
    private readonly SemaphoreSlim _hostFreed = new(0);
    // Decrypted secrets and passwords by their protected text: Data Protection's unprotect per POST cost more than the
    // HMAC. Bounded; a rotated secret has new protected text, so nothing stale is used.
    private readonly ConcurrentDictionary<string, string> _unprotected = new(StringComparer.Ordinal);

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
    /// Claims what is due and starts posting it: one task per destination host, which posts that host's rows (at most
    /// <see cref="WebhookOptions.MaxConcurrencyPerHost"/> at once) and records their outcomes in one transaction.
    /// A host with a batch in flight is left out of the next claims, so a slow host holds back only its own rows.
    /// </summary>
    public async Task<List<Task>> StartDueAsync(CancellationToken ct) => (await StartAsync(ct)).Tasks;

    private async Task<(List<Task> Tasks, int Rows)> StartAsync(CancellationToken ct)
    {
        var freeHosts = Math.Max(1, options.MaxConcurrency / Math.Max(1, options.MaxConcurrencyPerHost)) - _busyHosts.Count;
        if (freeHosts <= 0)
            return ([], 0);
        var claimed = await ClaimAsync(ct);
        if (claimed.Count == 0)
            return ([], 0);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var eventIds = claimed.Select(d => d.EventId).Distinct().ToList();
        var events = await db.WebhookEvents.AsNoTracking().Where(e => eventIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
        var hookIds = claimed.Where(d => d.WebhookId is not null).Select(d => d.WebhookId!.Value).Distinct().ToList();
        var hooks = await db.Webhooks.AsNoTracking().Where(w => hookIds.Contains(w.Id)).ToDictionaryAsync(w => w.Id, ct);
        var tasks = new List<Task>();
        foreach (var group in claimed.GroupBy(d => d.Host))
        {
            var rows = group.ToList();
            _busyHosts[group.Key] = true;
            Interlocked.Add(ref _inFlight, rows.Count);
            tasks.Add(Task.Run(async () =>
            {
                var hostReleased = false;
                try
                {
                    var results = new ConcurrentBag<(WebhookDelivery Delivery, WebhookEvent? Event, WebhookSendResult Result)>();
                    await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxConcurrencyPerHost), CancellationToken = ct },
                        async (d, token) =>
                        {
                            var ev = events.GetValueOrDefault(d.EventId);
                            results.Add((d, ev, await SendOneAsync(d, ev, d.WebhookId is { } h ? hooks.GetValueOrDefault(h) : null, token)));
                        });
                    // The host's POSTs are done: it may be claimed again while this batch records (its rows stay
                    // leased until then), so the next batch's POSTs overlap this commit and the limit still holds.
                    hostReleased = true;
                    ReleaseHost(group.Key);
                    await RecordAsync(results.ToList(), ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Webhook deliveries to {Host} failed; they are tried again when their lease ends", group.Key);
                }
                finally
                {
                    Interlocked.Add(ref _inFlight, -rows.Count);
                    if (!hostReleased)
                        ReleaseHost(group.Key);
                }
            }, CancellationToken.None));
        }
        return (tasks, claimed.Count);
    }

    private void ReleaseHost(string host)
    {
        if (_busyHosts.TryRemove(host, out _))
            _hostFreed.Release();
    }

    /// <summary>Completes when a host's POSTs finish (the worker claims again then, without waiting for its tick).</summary>
    public Task WaitHostFreedAsync(TimeSpan timeout, CancellationToken ct) => _hostFreed.WaitAsync(timeout, ct);

    private async Task<List<WebhookDelivery>> ClaimAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var until = now + (long)options.Lease.TotalMilliseconds;
        var busy = _busyHosts.Keys.Take(200).ToList();
        // Same pattern as mail delivery: SQLite has one writer, so UPDATE ... RETURNING is atomic; PostgreSQL skips rows
        // other nodes hold. At most ClaimBatch rows of one host (ROW_NUMBER per host), none of a host this node is
        // already posting to.
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

    private async Task<WebhookSendResult> SendOneAsync(WebhookDelivery d, WebhookEvent? ev, Webhook? hook, CancellationToken ct)
    {
        WebhookSendResult result;
        string url = hook?.Url ?? d.Url;
        if (ev is null || (d.WebhookId is not null && hook is null))
        {
            // The webhook was deleted after the event was written (its rows go with it); nothing left to post.
            result = new WebhookSendResult(false, false, 0, "The webhook or its event no longer exists.", 0);
        }
        else
        {
            var inbound = ev.RecordType == Inbound.InboundRetrySchedule.RecordType;
            // Inbound payloads are posted as stored (their attachments' Content is not a trigger option).
            var body = inbound ? ev.PayloadJson : WebhookPayloads.Final(ev.PayloadJson, ev.BounceId, d.IncludeContent);
            var now = clock.GetUtcNow();
            var remaining = inbound ? Inbound.InboundRetrySchedule.RetriesRemaining(d.Attempts) : WebhookRetrySchedule.RetriesRemaining(d.Attempts);
            var headers = new List<(string, string)>
            {
                ("X-PM-Retries-Remaining", remaining.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("X-PM-Webhook-Trace-Id", $"{ev.Id}-{d.Id}"),
            };
            string? user = null, password = null;
            if (hook is not null)
            {
                foreach (var h in JsonSerializer.Deserialize<List<Mailroom.Contracts.WebhookHeader>>(hook.HttpHeadersJson) ?? [])
                    if (h.Name is { Length: > 0 } name)
                        headers.Add((name, h.Value ?? ""));
                user = hook.HttpAuthUsername;
                password = hook.HttpAuthPasswordProtected is { } p ? Unprotect(p) : null;
                var previous = hook.PreviousSecretProtected is { } prev && hook.PreviousSecretUntil > now.ToUnixTimeMilliseconds()
                    ? Unprotect(prev) : null;
                headers.Add((WebhookSignature.Header, WebhookSignature.Sign(now.ToUnixTimeSeconds(), body, Unprotect(hook.SecretProtected), previous)));
            }
            result = Uri.TryCreate(url, UriKind.Absolute, out var uri)
                ? await sender.SendAsync(new WebhookRequestPlan(uri, body, headers, user, password), ct)
                : new WebhookSendResult(false, false, 0, $"Invalid URL '{url}'.", 0);
        }
        return result;
    }

    private const string UpdateRow =
        "UPDATE webhook_deliveries SET \"State\" = @State, \"Attempts\" = @Attempts, \"NextAttemptAt\" = @NextAttemptAt, " +
        "\"LeaseUntil\" = 0, \"LeaseOwner\" = NULL, \"LastResult\" = @LastResult WHERE \"Id\" = @Id";

    private const string InsertAttempt =
        "INSERT INTO webhook_attempts (\"DeliveryId\", \"EventId\", \"ServerId\", \"WebhookId\", \"RecordType\", \"At\", \"StatusCode\", " +
        "\"DurationMs\", \"Error\", \"Outcome\") VALUES (@DeliveryId, @EventId, @ServerId, @WebhookId, @RecordType, @At, @StatusCode, @DurationMs, @Error, @Outcome)";

    /// <summary>Records a host batch's attempts and the rows' next states in one transaction (plain SQL per row, as the
    /// mail queue's hot writes do: EF's update pipeline costs more than the database's work here).</summary>
    private async Task RecordAsync(List<(WebhookDelivery Delivery, WebhookEvent? Event, WebhookSendResult Result)> results, CancellationToken ct)
    {
        if (results.Count == 0)
            return;
        var now = clock.GetUtcNow();
        var rows = new List<(WebhookDelivery D, string RecordType, WebhookSendResult R, WebhookDeliveryState State, int Attempts, long Next, string Outcome, string Last)>();
        foreach (var (d, ev, result) in results)
        {
            var r = result;
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
            if (!r.Success)
                log.LogInformation("Webhook {Delivery} to {Host}: {Outcome} ({Error})", d.Id, d.Host, outcome, r.Error);
        }
        var at = now.ToUnixTimeMilliseconds();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await using var statements = await RowStatements.BeginAsync(db, ct);
        await statements.ExecuteEachAsync(UpdateRow, rows, (x, row) => row
            .Add("Id", x.D.Id).Add("State", (int)x.State).Add("Attempts", x.Attempts).Add("NextAttemptAt", x.Next).Add("LastResult", x.Last), ct);
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
}
