using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mailroom.Contracts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Core.Webhooks;
using Mailroom.Mail.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Tracking;

/// <summary>What a verified tracking request is about.</summary>
public sealed record EngagementRequest(string Token, string? UserAgent, IPAddress? Address);

/// <summary>
/// Records opens and clicks: the one place where an open or click becomes rows. Each event, its message event (the
/// first open of a recipient, every click) and its webhook outbox rows are written in ONE transaction, so a webhook
/// is never sent for an event that was not stored nor lost for one that was.
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
public sealed class EngagementRecorder(MailroomDb db, TrackingKeyring keys, WebhookOutbox webhooks, GeoLocator geo, TrackingOptions options,
    TimeProvider clock, ILogger<EngagementRecorder> log)
{
    private static readonly UserAgentClassifier Agents = UserAgentClassifier.Default;

    /// <summary>Records an open; false (nothing recorded, logged) when the token is not one Mailroom signed or its message is gone.</summary>
    public async Task<bool> RecordOpenAsync(EngagementRequest request, CancellationToken ct)
    {
        var signer = await keys.SignerAsync(ct);
        if (!signer.TryVerify(request.Token, TrackingKind.Open, out var token))
        {
            log.LogWarning("Open pixel with an invalid token from {Address}: nothing recorded", request.Address);
            return false;
        }
        var target = await TargetAsync(token, ct);
        if (target is null)
            return false;
        await RecordAsync(target, EngagementKind.Open, request, null, ct);
        return true;
    }

    /// <summary>Records a click and answers the URL to redirect to; null (nothing recorded, logged) for a token Mailroom
    /// did not sign, or a link that is not in the message.</summary>
    public async Task<string?> RecordClickAsync(EngagementRequest request, CancellationToken ct)
    {
        var signer = await keys.SignerAsync(ct);
        if (!signer.TryVerify(request.Token, TrackingKind.Click, out var token))
        {
            log.LogWarning("Click with an invalid token from {Address}: refused", request.Address);
            return null;
        }
        var target = await TargetAsync(token, ct);
        if (target is null)
            return null;
        var link = await db.TrackedLinks.AsNoTracking().Where(l => l.MessageId == token.MessageId && l.LinkIndex == token.LinkIndex).FirstOrDefaultAsync(ct);
        if (link is null)
        {
            log.LogWarning("Click token of message {MessageId} names link {Link}, which the message does not have: refused", token.MessageId, token.LinkIndex);
            return null;
        }
        await RecordAsync(target, EngagementKind.Click, request, link, ct);
        return link.Url;
    }

    private sealed record Target(Guid MessageId, int ServerId, string Stream, string Tag, string Recipient);

    private async Task<Target?> TargetAsync(TrackingToken token, CancellationToken ct)
    {
        var m = await db.OutboundMessages.AsNoTracking().Where(x => x.Id == token.MessageId)
            .Select(x => new { x.ServerId, x.Stream, x.Tag, x.RecipientsJson }).FirstOrDefaultAsync(ct);
        if (m?.ServerId is not { } serverId)
        {
            log.LogInformation("Tracking token of message {MessageId}, which is no longer kept: nothing recorded", token.MessageId);
            return null;
        }
        var recipients = JsonSerializer.Deserialize<List<string>>(m.RecipientsJson) ?? [];
        if (token.RecipientIndex >= recipients.Count)
            return null;
        return new Target(token.MessageId, serverId, m.Stream, m.Tag, recipients[token.RecipientIndex]);
    }

    private async Task RecordAsync(Target t, EngagementKind kind, EngagementRequest request, TrackedLinkRecord? link, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var agent = Agents.Classify(request.UserAgent);
        var place = geo.Locate(request.Address);
        var deliveredAt = await db.MessageEvents.AsNoTracking()
            .Where(e => e.MessageId == t.MessageId && e.Recipient == t.Recipient && e.Type == MessageEventType.Delivered)
            .Select(e => (long?)e.At).MinAsync(ct);
        var sinceDelivery = deliveredAt is { } at ? now - DateTimeOffset.FromUnixTimeMilliseconds(at) : (TimeSpan?)null;
        var machine = agent.Machine
            || (kind == EngagementKind.Open && agent.Proxy && sinceDelivery is { } s1 && s1 < options.ProxyPrefetchWindow)
            || (kind == EngagementKind.Click && sinceDelivery is { } s2 && s2 < options.ScannerClickWindow);

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Inside the transaction, so two opens racing are not both first on a store that serializes writers.
        var first = kind == EngagementKind.Open
            && !await db.EngagementEvents.AnyAsync(e => e.MessageId == t.MessageId && e.Kind == EngagementKind.Open && e.Recipient == t.Recipient, ct);
        var ev = new EngagementEvent
        {
            ServerId = t.ServerId, MessageId = t.MessageId, Stream = t.Stream, Tag = t.Tag, Recipient = t.Recipient, Kind = kind,
            At = now.ToUnixTimeMilliseconds(), FirstOpen = first,
            UserAgent = Truncate(request.UserAgent ?? "", 1000), Platform = agent.Platform,
            ClientName = agent.ClientName, ClientCompany = agent.ClientCompany, ClientFamily = agent.ClientFamily,
            OsName = agent.OsName, OsCompany = agent.OsCompany, OsFamily = agent.OsFamily,
            Ip = request.Address?.ToString() ?? "",
            CountryIsoCode = place.CountryIsoCode, Country = place.Country, RegionIsoCode = place.RegionIsoCode, Region = place.Region,
            City = place.City, Zip = place.Zip, Coords = place.Coords,
            ClickLocation = link?.Location ?? LinkLocation.HTML, OriginalLink = link?.Url ?? "",
            Machine = machine,
        };
        db.EngagementEvents.Add(ev);
        // Message details show the first open of each recipient (Postmark keeps only that one there) and every click.
        if (kind == EngagementKind.Click)
            db.MessageEvents.Add(new MessageEvent
            {
                MessageId = t.MessageId, ServerId = t.ServerId, Recipient = t.Recipient, Type = MessageEventType.LinkClicked, At = ev.At,
                DetailsJson = JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["Summary"] = $"Clicked a link in the {link!.Location} part" + (machine ? " (machine: link scanner)" : ""),
                    ["Link"] = link.Url,
                    ["ClickLocation"] = link.Location.ToString(),
                }),
            });
        else if (first)
            db.MessageEvents.Add(new MessageEvent
            {
                MessageId = t.MessageId, ServerId = t.ServerId, Recipient = t.Recipient, Type = MessageEventType.Opened, At = ev.At,
                DetailsJson = JsonSerializer.Serialize(new Dictionary<string, string>
                {
                    ["Summary"] = "Opened" + (agent.ClientName.Length > 0 ? $" with {agent.ClientName}" : "") + (machine ? " (machine: prefetch)" : ""),
                }),
            });
        var payload = kind == EngagementKind.Open ? Payload(ToOpen(ev)) : Payload(ToClick(ev));
        await webhooks.AddAsync(db, [new PendingWebhookEvent(t.ServerId, t.Stream, kind == EngagementKind.Open ? "Open" : "Click", payload, t.MessageId, null)], ct);

        // >>> STATS HOOK (stats branch): increment the per-day engagement counters of (server, stream, tag, day) here,
        // >>> in this transaction, from `ev` (Kind, FirstOpen, Platform, ClientFamily, ClickLocation, Machine). <<<

        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
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
