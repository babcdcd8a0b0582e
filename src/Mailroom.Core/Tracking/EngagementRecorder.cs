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

/// <summary>
/// Records opens and clicks: the one place where an open or click becomes rows. Each event, its message event (the
/// first open of a recipient, every click) and its webhook outbox rows are written in ONE transaction, so a webhook
/// is never sent for an event that was not stored nor lost for one that was.
/// <para>Group commit, as for accepted mail (<see cref="Queue.OutboundQueue"/>): the image endpoint is hit by every
/// mail client that shows a message, so requests that arrive while a commit runs share the next one (one transaction
/// and one fsync for many opens). A caller's answer waits for its commit: what the endpoint answered is recorded.
/// Verifying the token is pure CPU and happens before queueing, so forged tokens never reach the database.</para>
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

    private static readonly UserAgentClassifier Agents = UserAgentClassifier.Default;

    private readonly IServiceScopeFactory _scopes;
    private readonly TrackingKeyring _keys;
    private readonly WebhookOutbox _webhooks;
    private readonly GeoLocator _geo;
    private readonly TrackingOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<EngagementRecorder> _log;
    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

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
    private sealed record Pending(EngagementKind Kind, TrackingToken Token, EngagementRequest Request, DateTimeOffset At)
    {
        public TaskCompletionSource<string?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Records an open; false (nothing recorded, logged) when the token is not one Mailroom signed or its message is gone.</summary>
    public async Task<bool> RecordOpenAsync(EngagementRequest request, CancellationToken ct)
    {
        var signer = await _keys.SignerAsync(ct);
        if (!signer.TryVerify(request.Token, TrackingKind.Open, out var token))
        {
            _log.LogWarning("Open image with an invalid token from {Address}: nothing recorded", request.Address);
            return false;
        }
        return await HandAsync(new Pending(EngagementKind.Open, token, request, _clock.GetUtcNow())) is not null;
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

    private Task<string?> HandAsync(Pending p) =>
        _pending.Writer.TryWrite(p) ? p.Done.Task : throw new InvalidOperationException("The engagement recorder is shut down.");

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
                    try
                    {
                        p.Done.TrySetResult((await WriteAsync([p]))[0]);
                    }
                    catch (Exception alone)
                    {
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
        // Inside the transaction, and this node's writer is the only one adding opens here, so a recipient's first
        // open is first once (two nodes racing on the same recipient's first open could each call theirs first).
        // One indexed probe per recipient opening in this batch (not a scan of a message's opens, which grow).
        var opened = new HashSet<(Guid, string)>();
        foreach (var (mid, index) in batch.Where(p => p.Kind == EngagementKind.Open).Select(p => (p.Token.MessageId, p.Token.RecipientIndex)).Distinct())
        {
            if (!messages.TryGetValue(mid, out var om) || (JsonSerializer.Deserialize<List<string>>(om.RecipientsJson) ?? []) is not { } rs || index >= rs.Count)
                continue;
            var rcpt = rs[index];
            if (await db.EngagementEvents.AnyAsync(e => e.MessageId == mid && e.Kind == EngagementKind.Open && e.Recipient == rcpt, ct))
                opened.Add((mid, rcpt));
        }
        var results = new string?[batch.Count];
        var hooks = new List<PendingWebhookEvent>();
        var counters = new List<Stats.StatsIncrement>();
        var clickedLinks = new HashSet<(Guid, string, string)>();
        for (var i = 0; i < batch.Count; i++)
        {
            var p = batch[i];
            if (!messages.TryGetValue(p.Token.MessageId, out var m) || m.ServerId is not { } serverId)
            {
                _log.LogInformation("Tracking token of message {MessageId}, which is no longer kept: nothing recorded", p.Token.MessageId);
                continue;
            }
            var recipients = JsonSerializer.Deserialize<List<string>>(m.RecipientsJson) ?? [];
            if (p.Token.RecipientIndex >= recipients.Count)
                continue;
            var recipient = recipients[p.Token.RecipientIndex];
            TrackedLinkRecord? link = null;
            if (p.Kind == EngagementKind.Click && !links.TryGetValue((p.Token.MessageId, p.Token.LinkIndex), out link))
            {
                _log.LogWarning("Click token of message {MessageId} names link {Link}, which the message does not have: refused", p.Token.MessageId, p.Token.LinkIndex);
                continue;
            }
            var ev = Event(p, serverId, m.Stream, m.Tag, recipient, link,
                delivered.TryGetValue((p.Token.MessageId, recipient), out var at) ? at : null,
                first: p.Kind == EngagementKind.Open && opened.Add((p.Token.MessageId, recipient)));
            db.EngagementEvents.Add(ev);
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
                p.Kind == EngagementKind.Open ? Payload(ToOpen(ev)) : Payload(ToClick(ev)), ev.MessageId, null));

            // Stats counters (Core/Stats), in this transaction: every open and click, the first open of a recipient and the
            // first click of a link by a recipient, and the breakdowns (platform, client or browser, place, country) of
            // those first ones, as Postmark's stats count them.
            var firstClick = link is not null && clickedLinks.Add((ev.MessageId, recipient, link.Url))
                && !await db.EngagementEvents.AnyAsync(e => e.MessageId == ev.MessageId && e.Kind == EngagementKind.Click
                    && e.Recipient == recipient && e.OriginalLink == link.Url, ct);
            counters.AddRange(EngagementCounters(ev, firstClick));

            results[i] = link?.Url ?? "";
        }
        await _webhooks.AddAsync(db, hooks, ct);
        await db.SaveChangesAsync(ct);
        await Stats.StatsCounters.AddAsync(db, counters, ct);
        await transaction.CommitAsync(ct);
        return results;
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
        var agent = Agents.Classify(p.Request.UserAgent);
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

    public static OpenEventResponse ToOpen(EngagementEvent e) => new()
    {
        FirstOpen = e.FirstOpen, Client = Client(e), OS = Os(e), Platform = e.Platform.ToString(), UserAgent = e.UserAgent, ReadSeconds = 0,
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
