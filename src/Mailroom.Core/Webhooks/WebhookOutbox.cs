using Mailroom.Contracts;
using System.Text.Json.Nodes;
using Mailroom.Core.Events;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Webhooks;

/// <summary>An event about to be written: its payload, and the bounce whose ID it takes when that is saved.</summary>
public sealed record PendingWebhookEvent(int ServerId, string Stream, string RecordType, JsonObject Payload, Guid? MessageId, Bounce? Bounce,
    bool WithMessageMetadata = true);

/// <summary>
/// The transactional outbox of webhooks. Producers (delivery outcomes, bounces, complaints, suppressions) call it
/// inside the unit of work of their state change: it adds the event (for replay) and one <see cref="WebhookDelivery"/>
/// per endpoint whose trigger matches, to the same context, so the change and its deliveries commit together or not
/// at all. A crash after the commit loses nothing: the dispatcher finds the rows.
/// <para>Endpoints: the stream's webhooks, and the server's legacy hook URLs (spec §3.2) as an implicit webhook on the
/// <c>outbound</c> stream: <c>BounceHookUrl</c> gets Bounce and SpamComplaint (with <c>Content</c> when
/// <c>IncludeBounceContentInHook</c>), <c>DeliveryHookUrl</c> gets Delivery, <c>OpenHookUrl</c> Open (every open) and
/// <c>ClickHookUrl</c> Click. A webhook's Open trigger with <c>PostFirstOpenOnly</c> gets only a recipient's first open.</para>
/// </summary>
public sealed class WebhookOutbox(TimeProvider clock)
{
    /// <summary>Adds the events and their deliveries to <paramref name="db"/>; the caller saves (in its transaction).</summary>
    public async Task AddAsync(MailroomDb db, IReadOnlyList<PendingWebhookEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return;
        var endpoints = await EndpointsAsync(db, events, ct);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var e in events)
        {
            endpoints.AddMetadata(e);
            var ev = new WebhookEvent
            {
                ServerId = e.ServerId,
                Stream = e.Stream,
                RecordType = e.RecordType,
                PayloadJson = WebhookPayloads.Serialize(e.Payload),
                Bounce = e.Bounce is { Id: 0 } ? e.Bounce : null,
                BounceId = e.Bounce is { Id: > 0 } saved ? saved.Id : null,
                CreatedAt = now,
            };
            db.WebhookEvents.Add(ev);
            foreach (var (webhookId, url, content) in endpoints.For(e))
                db.WebhookDeliveries.Add(Row(ev, e.ServerId, webhookId, url, content, now));
        }
    }

    /// <summary>
    /// As <see cref="AddAsync"/>, written as plain statements in <paramref name="rows"/>' transaction instead of through
    /// the context: for a producer writing hundreds of events per transaction (the engagement writer: one Open per image
    /// fetch), where EF's change tracking of the event rows cost more CPU than the inserts. Events keep their order (the
    /// replay's Id order); one with endpoints is inserted alone for its Id (RETURNING), its deliveries after it. Events
    /// that carry a bounce are refused: their ID comes from the bounce row, which EF saves.
    /// </summary>
    public async Task AddRowsAsync(MailroomDb db, RowStatements rows, IReadOnlyList<PendingWebhookEvent> events, CancellationToken ct)
    {
        if (events.Count == 0)
            return;
        if (events.Any(e => e.Bounce is not null))
            throw new ArgumentException("Events with a bounce are written through the context (AddAsync).", nameof(events));
        var endpoints = await EndpointsAsync(db, events, ct);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var plain = new List<PendingWebhookEvent>();
        var deliveries = new List<(long EventId, int ServerId, int? WebhookId, string Url, bool Content)>();
        void BindEvent(PendingWebhookEvent e, RowStatements.Row r) => r
            .Add("ServerId", e.ServerId).Add("Stream", e.Stream).Add("RecordType", e.RecordType)
            .Add("PayloadJson", WebhookPayloads.Serialize(e.Payload)).Add("CreatedAt", now);
        async Task FlushPlainAsync()
        {
            await rows.ExecuteEachAsync(InsertEvent, plain, BindEvent, ct);
            plain.Clear();
        }
        foreach (var e in events)
        {
            endpoints.AddMetadata(e);
            var targets = endpoints.For(e).ToList();
            if (targets.Count == 0)
            {
                plain.Add(e);
                continue;
            }
            await FlushPlainAsync();
            var id = (await rows.ExecuteEachScalarAsync(InsertEvent + " RETURNING \"Id\"", [e], BindEvent, ct))[0];
            foreach (var (webhookId, url, content) in targets)
                deliveries.Add((Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture), e.ServerId, webhookId, url, content));
        }
        await FlushPlainAsync();
        await rows.ExecuteEachAsync(InsertDelivery, deliveries, (d, r) => r
            .Add("EventId", d.EventId).Add("ServerId", d.ServerId).Add("WebhookId", d.WebhookId).Add("Url", d.WebhookId is null ? d.Url : "")
            .Add("Host", Host(d.Url)).Add("IncludeContent", d.Content).Add("State", (int)WebhookDeliveryState.Pending).Add("NextAttemptAt", now)
            .Add("CreatedAt", now), ct);
    }

    private const string InsertEvent =
        "INSERT INTO webhook_events (\"ServerId\", \"Stream\", \"RecordType\", \"PayloadJson\", \"BounceId\", \"CreatedAt\") " +
        "VALUES (@ServerId, @Stream, @RecordType, @PayloadJson, NULL, @CreatedAt)";

    private const string InsertDelivery =
        "INSERT INTO webhook_deliveries (\"EventId\", \"ServerId\", \"WebhookId\", \"Url\", \"Host\", \"IncludeContent\", \"State\", \"Attempts\", " +
        "\"NextAttemptAt\", \"LeaseUntil\", \"LeaseOwner\", \"CreatedAt\", \"LastResult\") " +
        "VALUES (@EventId, @ServerId, @WebhookId, @Url, @Host, @IncludeContent, @State, 0, @NextAttemptAt, 0, NULL, @CreatedAt, '')";

    /// <summary>The endpoints of the events' servers (their stream's webhooks, the legacy hook URLs) and the metadata
    /// of their messages, read once per call.</summary>
    private async Task<Endpoints> EndpointsAsync(MailroomDb db, IReadOnlyList<PendingWebhookEvent> events, CancellationToken ct)
    {
        var serverIds = events.Select(e => e.ServerId).Distinct().ToList();
        var hooks = await db.Webhooks.AsNoTracking().Where(w => serverIds.Contains(w.ServerId)).ToListAsync(ct);
        var legacy = await db.Servers.AsNoTracking().Where(s => serverIds.Contains(s.Id) && (s.BounceHookUrl != "" || s.DeliveryHookUrl != "" || s.OpenHookUrl != "" || s.ClickHookUrl != ""))
            .Select(s => new LegacyHooks(s.Id, s.BounceHookUrl, s.DeliveryHookUrl, s.OpenHookUrl, s.ClickHookUrl, s.IncludeBounceContentInHook)).ToDictionaryAsync(s => s.Id, ct);
        var messageIds = events.Where(e => e.WithMessageMetadata && e.MessageId is not null).Select(e => e.MessageId!.Value).Distinct().ToList();
        var messages = messageIds.Count == 0
            ? []
            : await db.OutboundMessages.AsNoTracking().Where(m => messageIds.Contains(m.Id))
                .Select(m => new { m.Id, m.MetadataJson, m.Tag }).ToDictionaryAsync(m => m.Id, m => (m.MetadataJson, m.Tag), ct);
        return new Endpoints(hooks, legacy, messages);
    }

    private sealed record LegacyHooks(int Id, string BounceHookUrl, string DeliveryHookUrl, string OpenHookUrl, string ClickHookUrl, bool IncludeBounceContentInHook);

    private sealed class Endpoints(List<Webhook> hooks, Dictionary<int, LegacyHooks> legacy, Dictionary<Guid, (string MetadataJson, string Tag)> messages)
    {
        public void AddMetadata(PendingWebhookEvent e)
        {
            if (e.WithMessageMetadata && e.MessageId is { } mid && messages.TryGetValue(mid, out var m))
            {
                e.Payload["Metadata"] = WebhookPayloads.Metadata(m.MetadataJson);
                if (e.Payload["Tag"] is null || (string?)e.Payload["Tag"] == "")
                    e.Payload["Tag"] = m.Tag;
            }
        }

        /// <summary>Where <paramref name="e"/> is to be posted: (webhook, null URL) or (null, legacy URL), with or without content.</summary>
        public IEnumerable<(int? WebhookId, string Url, bool Content)> For(PendingWebhookEvent e)
        {
            foreach (var w in hooks)
            {
                if (w.ServerId != e.ServerId || w.Stream != e.Stream)
                    continue;
                var (wants, content) = e.RecordType switch
                {
                    "Delivery" => (w.DeliveryEnabled, false),
                    "Bounce" => (w.BounceEnabled, w.BounceIncludeContent),
                    "SpamComplaint" => (w.SpamComplaintEnabled, w.SpamComplaintIncludeContent),
                    "SubscriptionChange" => (w.SubscriptionChangeEnabled, false),
                    "Open" => (w.OpenEnabled && (!w.OpenPostFirstOpenOnly || (bool?)e.Payload["FirstOpen"] == true), false),
                    "Click" => (w.ClickEnabled, false),
                    _ => (false, false),
                };
                if (wants)
                    yield return (w.Id, w.Url, content);
            }
            if (e.Stream == DefaultStreams.Outbound && legacy.TryGetValue(e.ServerId, out var l))
            {
                var url = e.RecordType switch
                {
                    "Delivery" => l.DeliveryHookUrl,
                    "Bounce" or "SpamComplaint" => l.BounceHookUrl,
                    "Open" => l.OpenHookUrl,
                    "Click" => l.ClickHookUrl,
                    _ => "",
                };
                if (url.Length > 0)
                    yield return (null, url, l.IncludeBounceContentInHook);
            }
        }
    }

    /// <summary>Delivery hook: Delivered outcomes. Bounces, the give-up after the retry schedule's maximum age included,
    /// are bounce rows whose webhooks <see cref="BounceRecorder"/> adds. Adds and saves in the caller's transaction.</summary>
    public async Task AddDeliveryOutcomesAsync(MailroomDb db, IEnumerable<(MessageEvent Event, Dictionary<string, string> Details, Bounce? Bounce)> outcomes,
        IReadOnlyDictionary<Guid, (string Stream, string From, string Subject, string Tag)> messages, CancellationToken ct)
    {
        var pending = new List<PendingWebhookEvent>();
        foreach (var (ev, details, _) in outcomes)
        {
            if (ev.ServerId is not { } serverId || !messages.TryGetValue(ev.MessageId, out var m))
                continue;
            if (ev.Type == MessageEventType.Delivered)
                pending.Add(new PendingWebhookEvent(serverId, m.Stream, "Delivery",
                    WebhookPayloads.Delivery(serverId, m.Stream, ev.MessageId, ev.Recipient, m.Tag, DateTimeOffset.FromUnixTimeMilliseconds(ev.At),
                        details.GetValueOrDefault(EventDetails.DeliveryMessageKey, ""), []),
                    ev.MessageId, null));
        }
        if (pending.Count == 0)
            return;
        await AddAsync(db, pending, ct);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Bounce hook (<see cref="BounceRecorder"/>): the Bounce or SpamComplaint, and the SubscriptionChange when the
    /// bounce suppressed the address. The caller saves.</summary>
    public Task AddBounceAsync(MailroomDb db, Bounce bounce, bool suppressed, CancellationToken ct)
    {
        var events = new List<PendingWebhookEvent>
        {
            new(bounce.ServerId, bounce.Stream, bounce.Type == Mailroom.Mail.Bounces.BounceType.SpamComplaint ? "SpamComplaint" : "Bounce",
                WebhookPayloads.Bounce(bounce, []), bounce.MessageId, bounce),
        };
        if (suppressed)
            events.Add(new(bounce.ServerId, bounce.Stream, "SubscriptionChange",
                WebhookPayloads.SubscriptionChange(bounce.ServerId, bounce.Stream, bounce.MessageId, bounce.Email,
                    DateTimeOffset.FromUnixTimeMilliseconds(bounce.BouncedAt), "Recipient", true,
                    bounce.Type == Mailroom.Mail.Bounces.BounceType.SpamComplaint ? "SpamComplaint" : "HardBounce", bounce.Tag, []),
                bounce.MessageId, null));
        return AddAsync(db, events, ct);
    }

    /// <summary>Suppressions API hook: a customer suppressed (<paramref name="suppress"/>) or reactivated an address.
    /// The caller saves.</summary>
    public Task AddSubscriptionChangeAsync(MailroomDb db, Suppression s, bool suppress, CancellationToken ct) =>
        AddSubscriptionChangeAsync(db, s, suppress, "Customer", null, "", ct);

    /// <summary>A subscription change made by <paramref name="origin"/> (Customer, Recipient, Admin); with the message it
    /// came from (a recipient's unsubscribe link), whose metadata the payload then carries. The caller saves.</summary>
    public Task AddSubscriptionChangeAsync(MailroomDb db, Suppression s, bool suppress, string origin, Guid? messageId, string tag, CancellationToken ct) =>
        AddAsync(db, [new PendingWebhookEvent(s.ServerId, s.Stream, "SubscriptionChange",
            WebhookPayloads.SubscriptionChange(s.ServerId, s.Stream, messageId, s.Email, clock.GetUtcNow(), origin, suppress,
                suppress ? s.Reason.ToString() : null, tag, []), messageId, null, WithMessageMetadata: messageId is not null)], ct);

    /// <summary>Inbound mail (spec §10.6): one event on the <c>inbound</c> stream and its delivery to the server's
    /// <c>InboundHookUrl</c>, posted on the inbound schedule (<see cref="Inbound.InboundRetrySchedule"/>). The caller saves.</summary>
    public WebhookEvent AddInbound(MailroomDb db, int serverId, string hookUrl, string payloadJson)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var ev = new WebhookEvent
        {
            ServerId = serverId,
            Stream = Mailroom.Contracts.DefaultStreams.Inbound,
            RecordType = Inbound.InboundRetrySchedule.RecordType,
            PayloadJson = payloadJson,
            CreatedAt = now,
        };
        db.WebhookEvents.Add(ev);
        db.WebhookDeliveries.Add(Row(ev, serverId, null, hookUrl, false, now));
        return ev;
    }

    private static WebhookDelivery Row(WebhookEvent ev, int serverId, int? webhookId, string url, bool includeContent, long now) => new()
    {
        Event = ev,
        ServerId = serverId,
        WebhookId = webhookId,
        Url = webhookId is null ? url : "",
        Host = Host(url),
        IncludeContent = includeContent,
        State = WebhookDeliveryState.Pending,
        NextAttemptAt = now,
        CreatedAt = now,
    };

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host.ToLowerInvariant() : "";
}
