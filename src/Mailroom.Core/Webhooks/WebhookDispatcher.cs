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
    private readonly ConcurrentDictionary<string, int> _perHost = new(StringComparer.Ordinal);
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>At start: rows this node claimed before it stopped are released at once (posted again: at least once).</summary>
    public async Task<int> ReleaseLeasesOfPreviousRunAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var prefix = options.NodeId + "/";
        return await db.WebhookDeliveries
            .Where(d => d.State == WebhookDeliveryState.Pending && d.LeaseOwner != null && d.LeaseOwner.StartsWith(prefix) && d.LeaseOwner != _owner)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
    }

    /// <summary>Claims what is due and posts it; returns when those POSTs are done (tests drive rounds with it).</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var started = await StartDueAsync(ct);
        await Task.WhenAll(started);
        return started.Count;
    }

    /// <summary>Claims what is due and starts posting it; the tasks end when each row's outcome is recorded.</summary>
    public async Task<List<Task>> StartDueAsync(CancellationToken ct)
    {
        var free = options.MaxConcurrency - InFlight;
        if (free <= 0)
            return [];
        var claimed = await ClaimAsync(Math.Min(free, options.ClaimBatch), ct);
        if (claimed.Count == 0)
            return [];
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var eventIds = claimed.Select(d => d.EventId).Distinct().ToList();
        var events = await db.WebhookEvents.AsNoTracking().Where(e => eventIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, ct);
        var hookIds = claimed.Where(d => d.WebhookId is not null).Select(d => d.WebhookId!.Value).Distinct().ToList();
        var hooks = await db.Webhooks.AsNoTracking().Where(w => hookIds.Contains(w.Id)).ToDictionaryAsync(w => w.Id, ct);
        var tasks = new List<Task>();
        var release = new List<long>();
        foreach (var d in claimed)
        {
            // The claim skips full hosts, but one claim can bring many rows of one host: those over its limit go back.
            if (!TryTakeSlot(d.Host))
            {
                release.Add(d.Id);
                continue;
            }
            Interlocked.Increment(ref _inFlight);
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    await DeliverAsync(d, events.GetValueOrDefault(d.EventId), d.WebhookId is { } h ? hooks.GetValueOrDefault(h) : null, ct);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    log.LogError(e, "Webhook delivery {Id} failed; it is tried again when its lease ends", d.Id);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                    _perHost.AddOrUpdate(d.Host, 0, (_, n) => n - 1);
                }
            }, CancellationToken.None));
        }
        if (release.Count > 0)
            await db.WebhookDeliveries.Where(d => release.Contains(d.Id) && d.LeaseOwner == _owner)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
        return tasks;
    }

    private bool TryTakeSlot(string host)
    {
        while (true)
        {
            var n = _perHost.GetOrAdd(host, 0);
            if (n >= options.MaxConcurrencyPerHost)
                return false;
            if (_perHost.TryUpdate(host, n + 1, n))
                return true;
        }
    }

    private async Task<List<WebhookDelivery>> ClaimAsync(int limit, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var until = now + (long)options.Lease.TotalMilliseconds;
        var full = _perHost.Where(h => h.Value >= options.MaxConcurrencyPerHost).Select(h => h.Key).Take(100).ToList();
        // Same pattern as mail delivery: SQLite has one writer, so UPDATE ... RETURNING is atomic; PostgreSQL skips rows
        // other nodes hold. Hosts already at their limit are left for later rounds.
        var lockClause = db is PostgresMailroomDb ? " FOR UPDATE SKIP LOCKED" : "";
        var parameters = new List<object> { _owner, until, now, limit };
        var skip = "";
        if (full.Count > 0)
        {
            skip = " AND \"Host\" NOT IN (" + string.Join(", ", full.Select((h, i) => $"{{{i + 4}}}")) + ")";
            parameters.AddRange(full);
        }
        var sql = $$"""
            UPDATE webhook_deliveries SET "LeaseOwner" = {0}, "LeaseUntil" = {1}
            WHERE "Id" IN (SELECT "Id" FROM webhook_deliveries
                           WHERE "State" = 0 AND "NextAttemptAt" <= {2} AND "LeaseUntil" <= {2}{{skip}}
                           ORDER BY "NextAttemptAt", "Id" LIMIT {3}{{lockClause}})
            RETURNING *
            """;
        return await db.WebhookDeliveries.FromSqlRaw(sql, parameters.ToArray()).AsNoTracking().ToListAsync(ct);
    }

    private async Task DeliverAsync(WebhookDelivery d, WebhookEvent? ev, Webhook? hook, CancellationToken ct)
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
            var body = WebhookPayloads.Final(ev.PayloadJson, ev.BounceId, d.IncludeContent);
            var now = clock.GetUtcNow();
            var headers = new List<(string, string)>
            {
                ("X-PM-Retries-Remaining", WebhookRetrySchedule.RetriesRemaining(d.Attempts).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ("X-PM-Webhook-Trace-Id", $"{ev.Id}-{d.Id}"),
            };
            string? user = null, password = null;
            if (hook is not null)
            {
                foreach (var h in JsonSerializer.Deserialize<List<Mailroom.Contracts.WebhookHeader>>(hook.HttpHeadersJson) ?? [])
                    if (h.Name is { Length: > 0 } name)
                        headers.Add((name, h.Value ?? ""));
                user = hook.HttpAuthUsername;
                password = hook.HttpAuthPasswordProtected is { } p ? secrets.UnprotectKey(p) : null;
                var previous = hook.PreviousSecretProtected is { } prev && hook.PreviousSecretUntil > now.ToUnixTimeMilliseconds()
                    ? secrets.UnprotectKey(prev) : null;
                headers.Add((WebhookSignature.Header, WebhookSignature.Sign(now.ToUnixTimeSeconds(), body, secrets.UnprotectKey(hook.SecretProtected), previous)));
            }
            result = Uri.TryCreate(url, UriKind.Absolute, out var uri)
                ? await sender.SendAsync(new WebhookRequestPlan(uri, body, headers, user, password), ct)
                : new WebhookSendResult(false, false, 0, $"Invalid URL '{url}'.", 0);
        }
        await RecordAsync(d, ev, result, ct);
    }

    private async Task RecordAsync(WebhookDelivery d, WebhookEvent? ev, WebhookSendResult r, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var attempts = d.Attempts + 1;
        WebhookDeliveryState state;
        long next = d.NextAttemptAt;
        string outcome;
        if (r.Success)
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
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.WebhookDeliveries.Where(x => x.Id == d.Id).ExecuteUpdateAsync(u => u
            .SetProperty(x => x.State, state).SetProperty(x => x.Attempts, attempts).SetProperty(x => x.NextAttemptAt, next)
            .SetProperty(x => x.LeaseUntil, 0L).SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LastResult, last), ct);
        db.WebhookAttempts.Add(new WebhookAttempt
        {
            DeliveryId = d.Id,
            EventId = d.EventId,
            ServerId = d.ServerId,
            WebhookId = d.WebhookId,
            RecordType = ev?.RecordType ?? "",
            At = now.ToUnixTimeMilliseconds(),
            StatusCode = r.StatusCode,
            DurationMs = r.DurationMs,
            Error = last.Length > 0 && !r.Success ? last : "",
            Outcome = outcome,
        });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        if (!r.Success)
            log.LogInformation("Webhook {Delivery} to {Host}: {Outcome} ({Error})", d.Id, d.Host, outcome, r.Error);
    }
}
