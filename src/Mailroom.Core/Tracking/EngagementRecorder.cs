using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Mailroom.Contracts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Mailroom.Mail.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Tracking;

/// <summary>What a verified tracking request is about.</summary>
public sealed record EngagementRequest(string Token, string? UserAgent, IPAddress? Address);

/// <summary>An image request whose token Mailroom signed, and when it came.</summary>
public sealed record VerifiedOpen(TrackingToken Token, EngagementRequest Request, DateTimeOffset At);

/// <summary>
/// Records opens and clicks: the one place where an open or click becomes rows. Each event, its message event (the
/// first open of a recipient, every click) and its webhook outbox rows are written in ONE transaction, so a webhook
/// is never sent for an event that was not stored nor lost for one that was.
/// <para>Opens are queued, clicks wait. The image endpoint is hit by every mail client that shows a message and must
/// answer at once, so a verified open is handed to a bounded in-process queue and the image is served without waiting
/// for its write; a batching writer drains the queue, one transaction per batch (events, message events, webhook
/// outbox rows and stats counters together). When the queue is full the request waits for room (backpressure) instead
/// of dropping the open; a graceful stop drains it (<see cref="DisposeAsync"/>). The trade-off, chosen on purpose:
/// opens still queued when the process is killed (kill -9, power loss) are lost. An open is not accepted mail; nobody
/// was promised it was stored. A click waits for its commit, since its answer (the redirect) needs the link and a
/// click that redirected is recorded. Verifying the token is pure CPU and happens before queueing, so forged tokens
/// never reach the database.</para>
/// <para>First opens and first clicks are decided by this node's single writer: a recipient (or recipient and link)
/// seen before is remembered in a bounded set, so repeated opens cost no probe; the others are probed in one query per
/// batch. Two nodes racing on the same recipient's very first open could each call theirs first.</para>
/// <para>Facts: the user agent's client, OS and platform (<see cref="UserAgentClassifier"/>), geography from the
/// operator's GeoIP database if any (<see cref="GeoLocator"/>), and Mailroom's <c>Machine</c> flag:</para>
/// <list type="bullet">
/// <item>an agent the rules call a machine (link scanners, HTTP libraries, Apple Mail Privacy Protection's bare
/// <c>Mozilla/5.0</c>, which fetches every image of every message on arrival);</item>
/// <item>an open by an image proxy (Gmail, Yahoo) within <see cref="TrackingOptions.ProxyPrefetchWindow"/> of
/// delivery: a prefetch on arrival, not a reader;</item>
/// <item>a click within <see cref="TrackingOptions.ScannerClickWindow"/> of delivery: mail gateways fetch every link
/// of a message when it arrives; no person reads and clicks that fast.</item>
/// </list>
/// Machine events are kept and listed, marked; they still fire webhooks (Postmark's receivers see proxy opens too).
/// </summary>
public sealed class EngagementRecorder : IAsyncDisposable
{
    public const int MaxPerCommit = 500;
    /// <summary>Opens and clicks waiting for the writer; a full queue makes requests wait (backpressure).</summary>
    public const int QueueCapacity = 20_000;
    /// <summary>Remembered first opens and first clicks; past this the sets start again (a miss costs one probe).</summary>
    private const int MaxRemembered = 200_000;

    private static readonly UserAgentClassifier Agents = UserAgentClassifier.Default;

    private readonly IServiceScopeFactory _scopes;
    private readonly TrackingKeyring _keys;
    private readonly WebhookOutbox _webhooks;
    private readonly GeoLocator _geo;
    private readonly TrackingOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<EngagementRecorder> _log;
    private readonly Channel<Pending> _pending = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _writer;
    // Only the writer task touches these.
    private readonly HashSet<(Guid MessageId, string Recipient)> _opened = [];
    private readonly HashSet<(Guid MessageId, string Recipient, string Url)> _clicked = [];
    private readonly Dictionary<string, UserAgentFacts> _agents = [];

    public EngagementRecorder(IServiceScopeFactory scopes, TrackingKeyring keys, WebhookOutbox webhooks, GeoLocator geo, TrackingOptions options,
        TimeProvider clock, ILogger<EngagementRecorder> log)
    {
        _scopes = scopes;
        _keys = keys;
        _webhooks = webhooks;
        _geo = geo;
        _options = options;
        _clock = clock;
        _log = log;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>One verified request waiting for its commit. Done: the redirect URL of a click, "" for an open; null
    /// when nothing was recorded (the message is no longer kept, the link is not in it).</summary>
    private sealed record Pending(EngagementKind Kind, TrackingToken Token, EngagementRequest Request, DateTimeOffset At, int? ReadSeconds = null)
    {
        public TaskCompletionSource<string?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Checks an image token: the open it names, or null (logged) when Mailroom did not sign it.</summary>
    public async Task<VerifiedOpen?> VerifyOpenAsync(EngagementRequest request, CancellationToken ct)
    {
        var signer = await _keys.SignerAsync(ct);
        if (signer.TryVerify(request.Token, TrackingKind.Open, out var token))
            return new VerifiedOpen(token, request, _clock.GetUtcNow());
        _log.LogWarning("Open image with an invalid token from {Address}: nothing recorded", request.Address);
        return null;
    }

    /// <summary>Queues a verified open for the writer and returns once it is queued (not written: see the class
    /// notes). <paramref name="readSeconds"/>: how long the image stayed open, when that was measured.</summary>
    public ValueTask QueueOpenAsync(VerifiedOpen open, int? readSeconds = null) =>
        _pending.Writer.WriteAsync(new Pending(EngagementKind.Open, open.Token, open.Request, open.At, readSeconds));

    /// <summary>Verifies and queues an open; false (nothing recorded, logged) when the token is not one Mailroom signed.
    /// A token of a message no longer kept is dropped by the writer (logged).</summary>
    public async Task<bool> RecordOpenAsync(EngagementRequest request, CancellationToken ct)
    {
        if (await VerifyOpenAsync(request, ct) is not { } open)
            return false;
        await QueueOpenAsync(open);
        return true;
    }

    /// <summary>Records a click and answers the URL to redirect to; null (nothing recorded, logged) for a token Mailroom
    /// did not sign, or a link that is not in the message.</summary>
    public async Task<string?> RecordClickAsync(EngagementRequest request, CancellationToken ct)
    {
        var signer = await _keys.SignerAsync(ct);
        if (!signer.TryVerify(request.Token, TrackingKind.Click, out var token))
        {
            _log.LogWarning("Click with an invalid token from {Address}: refused", request.Address);
            return null;
        }
        return await HandAsync(new Pending(EngagementKind.Click, token, request, _clock.GetUtcNow()));
    }

    private async Task<string?> HandAsync(Pending p)
    {
        await _pending.Writer.WriteAsync(p);
        return await p.Done.Task;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxPerCommit && _pending.Reader.TryRead(out var p))
                batch.Add(p);
            try
            {
                var results = await WriteAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                    batch[i].Done.TrySetResult(results[i]);
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "Group commit of {Count} opens and clicks failed; writing each alone", batch.Count);
                foreach (var p in batch)
                {
                    // What a failed transaction added to the remembered firsts was never stored: forget all (a miss costs a probe).
                    _opened.Clear();
                    _clicked.Clear();
                    try
                    {
                        p.Done.TrySetResult((await WriteAsync([p]))[0]);
                    }
                    catch (Exception alone)
                    {
                        if (p.Kind == EngagementKind.Open)
                            _log.LogError(alone, "Recording an open of message {MessageId} failed: lost", p.Token.MessageId);
                        p.Done.TrySetException(alone);
                    }
                }
            }
        }
    }

    private async Task<string?[]> WriteAsync(List<Pending> batch)
    {
        var ct = CancellationToken.None; // once handed over, an event is written whether or not its caller waits
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var ids = batch.Select(p => p.Token.MessageId).Distinct().ToList();
        var messages = await db.OutboundMessages.AsNoTracking().Where(m => ids.Contains(m.Id))
            .Select(m => new { m.Id, m.ServerId, m.Stream, m.Tag, m.RecipientsJson }).ToDictionaryAsync(m => m.Id, ct);
        var clickIds = batch.Where(p => p.Kind == EngagementKind.Click).Select(p => p.Token.MessageId).Distinct().ToList();
        var links = clickIds.Count == 0 ? []
            : await db.TrackedLinks.AsNoTracking().Where(l => clickIds.Contains(l.MessageId)).ToDictionaryAsync(l => (l.MessageId, l.LinkIndex), ct);
        var delivered = (await db.MessageEvents.AsNoTracking().Where(e => ids.Contains(e.MessageId) && e.Type == MessageEventType.Delivered)
                .Select(e => new { e.MessageId, e.Recipient, e.At }).ToListAsync(ct))
            .GroupBy(e => (e.MessageId, e.Recipient)).ToDictionary(g => g.Key, g => g.Min(e => e.At));

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // First opens and first clicks: what this writer has seen is remembered; the rest is probed in one query each, inside
        // the transaction (this node's writer is the only one adding events here, see the class notes).
        var recipientsOf = messages.ToDictionary(m => m.Key, m => JsonSerializer.Deserialize<List<string>>(m.Value.RecipientsJson) ?? []);
        string? RecipientOf(Pending p) =>
            recipientsOf.TryGetValue(p.Token.MessageId, out var rs) && p.Token.RecipientIndex < rs.Count ? rs[p.Token.RecipientIndex] : null;
        Remember(_opened);
        Remember(_clicked);
        var unknownOpens = batch.Where(p => p.Kind == EngagementKind.Open).Select(p => (p.Token.MessageId, Recipient: RecipientOf(p)))
            .Where(k => k.Recipient is not null && !_opened.Contains((k.MessageId, k.Recipient))).Distinct().ToList();
        if (unknownOpens.Count > 0)
        {
            var mids = unknownOpens.Select(k => k.MessageId).Distinct().ToList();
            var rcpts = unknownOpens.Select(k => k.Recipient!).Distinct().ToList();
            foreach (var e in await db.EngagementEvents.AsNoTracking()
                         .Where(e => mids.Contains(e.MessageId) && e.Kind == EngagementKind.Open && rcpts.Contains(e.Recipient) && e.FirstOpen)
                         .Select(e => new { e.MessageId, e.Recipient }).ToListAsync(ct))
                _opened.Add((e.MessageId, e.Recipient));
        }
        var unknownClicks = batch.Where(p => p.Kind == EngagementKind.Click).Select(p => (p.Token.MessageId, Recipient: RecipientOf(p),
                Url: links.TryGetValue((p.Token.MessageId, p.Token.LinkIndex), out var l) ? l.Url : null))
            .Where(k => k.Recipient is not null && k.Url is not null && !_clicked.Contains((k.MessageId, k.Recipient, k.Url))).Distinct().ToList();
        if (unknownClicks.Count > 0)
        {
            var mids = unknownClicks.Select(k => k.MessageId).Distinct().ToList();
            var rcpts = unknownClicks.Select(k => k.Recipient!).Distinct().ToList();
            foreach (var e in await db.EngagementEvents.AsNoTracking()
                         .Where(e => mids.Contains(e.MessageId) && e.Kind == EngagementKind.Click && rcpts.Contains(e.Recipient))
                         .Select(e => new { e.MessageId, e.Recipient, e.OriginalLink }).Distinct().ToListAsync(ct))
                _clicked.Add((e.MessageId, e.Recipient, e.OriginalLink));
        }
        var results = new string?[batch.Count];
        var hooks = new List<PendingWebhookEvent>();
        var counters = new List<Stats.StatsIncrement>();
        var events = new List<EngagementEvent>();
        for (var i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            if (!messages.TryGetValue(p.Token.MessageId, out var m) || m.ServerId is not { } serverId)
            {
                _log.LogInformation("Tracking token of message {MessageId}, which is no longer kept: nothing recorded", p.Token.MessageId);
                continue;
            }
            if (RecipientOf(p) is not { } recipient)
                continue;
            TrackedLinkRecord? link = null;
            if (p.Kind == EngagementKind.Click && !links.TryGetValue((p.Token.MessageId, p.Token.LinkIndex), out link))
            {
                _log.LogWarning("Click token of message {MessageId} names link {Link}, which the message does not have: refused", p.Token.MessageId, p.Token.LinkIndex);
                continue;
            }
            var ev = Event(p, serverId, m.Stream, m.Tag, recipient, link,
                delivered.TryGetValue((p.Token.MessageId, recipient), out var at) ? at : null,
                first: p.Kind == EngagementKind.Open && _opened.Add((p.Token.MessageId, recipient)));
            events.Add(ev);
            // Message details show the first open of each recipient (Postmark keeps only that one there) and every click.
            if (link is not null)
                db.MessageEvents.Add(new MessageEvent
                {
                    MessageId = ev.MessageId, ServerId = serverId, Recipient = recipient, Type = MessageEventType.LinkClicked, At = ev.At,
                    DetailsJson = JsonSerializer.Serialize(new Dictionary<string, string>
                    {
                        ["Summary"] = $"Clicked a link in the {link.Location} part" + (ev.Machine ? " (machine: link scanner)" : ""),
                        ["Link"] = link.Url,
                        ["ClickLocation"] = link.Location.ToString(),
                    }),
                });
            else if (ev.FirstOpen)
                db.MessageEvents.Add(new MessageEvent
                {
                    MessageId = ev.MessageId, ServerId = serverId, Recipient = recipient, Type = MessageEventType.Opened, At = ev.At,
                    DetailsJson = JsonSerializer.Serialize(new Dictionary<string, string>
                    {
                        ["Summary"] = "Opened" + (ev.ClientName.Length > 0 ? $" with {ev.ClientName}" : "") + (ev.Machine ? " (machine: prefetch)" : ""),
                    }),
                });
            hooks.Add(new PendingWebhookEvent(serverId, m.Stream, p.Kind == EngagementKind.Open ? "Open" : "Click",
                p.Kind == EngagementKind.Open ? OpenPayload(ev) : Payload(ToClick(ev)), ev.MessageId, null));

            // Stats counters (Core/Stats), in this transaction: every open and click, the first open of a recipient and the
            // first click of a link by a recipient, and the breakdowns (platform, client or browser, place, country) of
            // those first ones, as Postmark's stats count them.
            var firstClick = link is not null && _clicked.Add((ev.MessageId, recipient, link.Url));
            counters.AddRange(EngagementCounters(ev, firstClick));

            results[i] = link?.Url ?? "";
        }
        // Message events (first opens, clicks: few) through EF; the rows of every open (its event, webhook event and
        // deliveries, counters) as plain statements in the same transaction (RowStatements): at one row per open, EF's
        // change tracking cost more CPU than the inserts.
        if (db.ChangeTracker.HasChanges())
            await db.SaveChangesAsync(ct);
        await using (var rows = RowStatements.InCurrentTransaction(db))
        {
            await rows.ExecuteEachAsync(InsertEvent, events, Bind, ct);
            await _webhooks.AddRowsAsync(db, rows, hooks, ct);
            await Stats.StatsCounters.AddAsync(rows, counters, ct);
        }
        await transaction.CommitAsync(ct);
        return results;
    }

    private const string InsertEvent =
        "INSERT INTO engagement_events (\"ServerId\", \"MessageId\", \"Stream\", \"Tag\", \"Recipient\", \"Kind\", \"At\", \"FirstOpen\", " +
        "\"UserAgent\", \"Platform\", \"ClientName\", \"ClientCompany\", \"ClientFamily\", \"OsName\", \"OsCompany\", \"OsFamily\", \"Ip\", " +
        "\"CountryIsoCode\", \"Country\", \"RegionIsoCode\", \"Region\", \"City\", \"Zip\", \"Coords\", \"ClickLocation\", \"OriginalLink\", " +
        "\"Machine\", \"ReadSeconds\") VALUES (@ServerId, @MessageId, @Stream, @Tag, @Recipient, @Kind, @At, @FirstOpen, @UserAgent, @Platform, " +
        "@ClientName, @ClientCompany, @ClientFamily, @OsName, @OsCompany, @OsFamily, @Ip, @CountryIsoCode, @Country, @RegionIsoCode, @Region, @City, " +
        "@Zip, @Coords, @ClickLocation, @OriginalLink, @Machine, @ReadSeconds)";

    private static void Bind(EngagementEvent e, RowStatements.Row r) => r
        .Add("ServerId", e.ServerId).Guid("MessageId", e.MessageId).Add("Stream", e.Stream).Add("Tag", e.Tag).Add("Recipient", e.Recipient)
        .Add("Kind", (int)e.Kind).Add("At", e.At).Add("FirstOpen", e.FirstOpen).Add("UserAgent", e.UserAgent).Add("Platform", (int)e.Platform)
        .Add("ClientName", e.ClientName).Add("ClientCompany", e.ClientCompany).Add("ClientFamily", e.ClientFamily).Add("OsName", e.OsName)
        .Add("OsCompany", e.OsCompany).Add("OsFamily", e.OsFamily).Add("Ip", e.Ip).Add("CountryIsoCode", e.CountryIsoCode).Add("Country", e.Country)
        .Add("RegionIsoCode", e.RegionIsoCode).Add("Region", e.Region).Add("City", e.City).Add("Zip", e.Zip).Add("Coords", e.Coords)
        .Add("ClickLocation", (int)e.ClickLocation).Add("OriginalLink", e.OriginalLink).Add("Machine", e.Machine).Add("ReadSeconds", e.ReadSeconds);

    /// <summary>The classifier runs its rules in order for every agent; mail clients send few distinct agents, so the
    /// writer keeps what it classified (bounded like the remembered firsts).</summary>
    private UserAgentFacts Classify(string? userAgent)
    {
        var key = userAgent ?? "";
        if (_agents.TryGetValue(key, out var facts))
            return facts;
        if (_agents.Count > 10_000)
            _agents.Clear();
        return _agents[key] = Agents.Classify(userAgent);
    }

    private static void Remember<T>(HashSet<T> set)
    {
        if (set.Count > MaxRemembered)
            set.Clear();
    }

    private static IEnumerable<Stats.StatsIncrement> EngagementCounters(EngagementEvent ev, bool firstClick)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(ev.At);
        Stats.StatsIncrement Count(Stats.StatsMetric metric, string key = "") =>
            Stats.StatsIncrement.For(ev.ServerId, ev.Stream, ev.Tag, at, metric, ev.Recipient, key);
        var client = ev.ClientFamily.Length > 0 ? ev.ClientFamily : ev.ClientName.Length > 0 ? ev.ClientName : "Unknown";
        if (ev.Kind == EngagementKind.Open)
        {
            yield return Count(Stats.StatsMetric.Opened);
            if (ev.Machine) yield return Count(Stats.StatsMetric.MachineOpen);
            // Every open whose read time was measured (the first open is often a prefetch, which is never measured).
            if (ev.ReadSeconds is { } read) yield return Count(Stats.StatsMetric.OpenReadTime, ReadTime.Bucket(read));
            if (!ev.FirstOpen) yield break;
            yield return Count(Stats.StatsMetric.UniqueOpen);
            yield return Count(Stats.StatsMetric.OpenPlatform, ev.Platform.ToString());
            yield return Count(Stats.StatsMetric.OpenClient, client);
            if (ev.Country.Length > 0) yield return Count(Stats.StatsMetric.OpenCountry, ev.Country);
        }
        else
        {
            yield return Count(Stats.StatsMetric.Clicked);
            if (ev.Machine) yield return Count(Stats.StatsMetric.MachineClick);
            if (!firstClick) yield break;
            yield return Count(Stats.StatsMetric.UniqueClick);
            yield return Count(Stats.StatsMetric.ClickBrowser, client);
            yield return Count(Stats.StatsMetric.ClickPlatform, ev.Platform.ToString());
            yield return Count(Stats.StatsMetric.ClickLocation, ev.ClickLocation.ToString());
            if (ev.Country.Length > 0) yield return Count(Stats.StatsMetric.ClickCountry, ev.Country);
        }
    }

    private EngagementEvent Event(Pending p, int serverId, string stream, string tag, string recipient, TrackedLinkRecord? link, long? deliveredAt, bool first)
    {
        var agent = Classify(p.Request.UserAgent);
        var place = _geo.Locate(p.Request.Address);
        var sinceDelivery = deliveredAt is { } d ? p.At - DateTimeOffset.FromUnixTimeMilliseconds(d) : (TimeSpan?)null;
        var machine = agent.Machine
            || (p.Kind == EngagementKind.Open && agent.Proxy && sinceDelivery is { } s1 && s1 < _options.ProxyPrefetchWindow)
            || (p.Kind == EngagementKind.Click && sinceDelivery is { } s2 && s2 < _options.ScannerClickWindow);
        return new EngagementEvent
        {
            ServerId = serverId, MessageId = p.Token.MessageId, Stream = stream, Tag = tag, Recipient = recipient, Kind = p.Kind,
            At = p.At.ToUnixTimeMilliseconds(), FirstOpen = first,
            UserAgent = Truncate(p.Request.UserAgent ?? "", 1000), Platform = agent.Platform,
            ClientName = agent.ClientName, ClientCompany = agent.ClientCompany, ClientFamily = agent.ClientFamily,
            OsName = agent.OsName, OsCompany = agent.OsCompany, OsFamily = agent.OsFamily,
            Ip = p.Request.Address?.ToString() ?? "",
            CountryIsoCode = place.CountryIsoCode, Country = place.Country, RegionIsoCode = place.RegionIsoCode, Region = place.Region,
            City = place.City, Zip = place.Zip, Coords = place.Coords,
            ClickLocation = link?.Location ?? LinkLocation.HTML, OriginalLink = link?.Url ?? "",
            Machine = machine,
            ReadSeconds = p.Kind == EngagementKind.Open ? p.ReadSeconds : null,
        };
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    private static JsonObject Payload<T>(T value) => JsonSerializer.SerializeToNode(value)!.AsObject();

    private static AgentFamily Client(EngagementEvent e) => new(e.ClientName, e.ClientCompany, e.ClientFamily);
    private static AgentFamily Os(EngagementEvent e) => new(e.OsName, e.OsCompany, e.OsFamily);

    private static GeoInfo Geo(EngagementEvent e) => new()
    {
        CountryISOCode = Empty(e.CountryIsoCode), Country = Empty(e.Country), RegionISOCode = Empty(e.RegionIsoCode), Region = Empty(e.Region),
        City = Empty(e.City), Zip = Empty(e.Zip), Coords = Empty(e.Coords), IP = Empty(e.Ip),
    };

    private static string? Empty(string s) => s.Length == 0 ? null : s;

    /// <summary>The Open webhook payload of <paramref name="e"/>: <see cref="ToOpen"/> as the serializer writes it, built
    /// node by node. One is built per image fetch, and serializing the record to a node (write, then parse back) cost
    /// several times more; <c>TrackingContentTests</c> checks both give the same JSON.</summary>
    public static JsonObject OpenPayload(EngagementEvent e) => new()
    {
        ["RecordType"] = "Open",
        ["FirstOpen"] = e.FirstOpen,
        ["Client"] = Family(e.ClientName, e.ClientCompany, e.ClientFamily),
        ["OS"] = Family(e.OsName, e.OsCompany, e.OsFamily),
        ["Platform"] = e.Platform.ToString(),
        ["UserAgent"] = e.UserAgent,
        ["ReadSeconds"] = e.ReadSeconds ?? 0,
        ["Geo"] = new JsonObject
        {
            ["CountryISOCode"] = Empty(e.CountryIsoCode), ["Country"] = Empty(e.Country), ["RegionISOCode"] = Empty(e.RegionIsoCode),
            ["Region"] = Empty(e.Region), ["City"] = Empty(e.City), ["Zip"] = Empty(e.Zip), ["Coords"] = Empty(e.Coords), ["IP"] = Empty(e.Ip),
        },
        ["MessageID"] = e.MessageId,
        ["MessageStream"] = e.Stream,
        ["ReceivedAt"] = DateTimeOffset.FromUnixTimeMilliseconds(e.At),
        ["Tag"] = e.Tag,
        ["Recipient"] = e.Recipient,
        ["Machine"] = e.Machine,
    };

    private static JsonObject Family(string name, string company, string family) => new() { ["Name"] = name, ["Company"] = company, ["Family"] = family };

    public static OpenEventResponse ToOpen(EngagementEvent e) => new()
    {
        FirstOpen = e.FirstOpen, Client = Client(e), OS = Os(e), Platform = e.Platform.ToString(), UserAgent = e.UserAgent, ReadSeconds = e.ReadSeconds ?? 0,
        Geo = Geo(e), MessageID = e.MessageId, MessageStream = e.Stream, ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(e.At),
        Tag = e.Tag, Recipient = e.Recipient, Machine = e.Machine,
    };

    public static ClickEventResponse ToClick(EngagementEvent e) => new()
    {
        ClickLocation = e.ClickLocation.ToString(), Client = Client(e), OS = Os(e), Platform = e.Platform.ToString(), UserAgent = e.UserAgent,
        OriginalLink = e.OriginalLink, Geo = Geo(e), MessageID = e.MessageId, MessageStream = e.Stream,
        ReceivedAt = DateTimeOffset.FromUnixTimeMilliseconds(e.At), Tag = e.Tag, Recipient = e.Recipient, Machine = e.Machine,
    };
}
