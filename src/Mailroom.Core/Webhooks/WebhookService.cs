using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// The Webhooks API (spec §10.1–10.3): one server's webhooks. Every query filters by server id, so another
/// server's webhook is "not found" (1352).
/// </summary>
public sealed partial class WebhookService(MailroomDb db, Secrets secrets, TimeProvider clock, WebhookOptions options)
{
    /// <summary>Webhooks per stream (Postmark's marketing page: "up to 10 webhook URLs").</summary>
    public const int MaxPerStream = 10;
    /// <summary>How long the secret before a rotation still signs.</summary>
    public static readonly TimeSpan PreviousSecretGrace = TimeSpan.FromHours(24);

    public async Task<WebhookList> ListAsync(int serverId, string? stream, CancellationToken ct)
    {
        var q = db.Webhooks.AsNoTracking().Where(w => w.ServerId == serverId);
        if (!string.IsNullOrEmpty(stream))
            q = q.Where(w => w.Stream == stream);
        var rows = await q.OrderBy(w => w.Id).ToListAsync(ct);
        return new WebhookList(rows.Select(w => ToResponse(w, null)).ToList());
    }

    public async Task<WebhookResponse> GetAsync(int serverId, int id, CancellationToken ct) =>
        ToResponse(await FindAsync(serverId, id, ct, tracking: false), null);

    public async Task<WebhookResponse> CreateAsync(int serverId, WebhookRequest? r, CancellationToken ct)
    {
        if (r is null)
            throw new MailroomException(PostmarkErrors.WebhookBodyEmpty, "The request body is empty: a webhook needs at least a 'Url'.");
        if (r.ID is not null)
            throw new MailroomException(PostmarkErrors.WebhookIdGivenOnCreate, "Do not give an 'ID' when creating a webhook.");
        var streamId = string.IsNullOrWhiteSpace(r.MessageStream) ? DefaultStreams.Outbound : r.MessageStream.Trim();
        var stream = await db.MessageStreams.AsNoTracking().FirstOrDefaultAsync(s => s.ServerId == serverId && s.StreamId == streamId, ct)
            ?? throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream for the provided 'ID' was not found: '{streamId}'.");
        if (stream.ArchivedAt is not null)
            throw new MailroomException(PostmarkErrors.WebhookStreamArchived, $"The message stream '{streamId}' is archived: webhooks cannot be added to it.");
        if (stream.Type == MessageStreamType.Inbound)
            throw new MailroomException(PostmarkErrors.WebhookOnInboundStream, $"'{streamId}' is an inbound stream: inbound messages are posted to the server's 'InboundHookUrl'.");
        if (await db.Webhooks.CountAsync(w => w.ServerId == serverId && w.Stream == streamId, ct) >= MaxPerStream)
            throw new MailroomException(PostmarkErrors.WebhookLimitReached, $"The stream '{streamId}' already has {MaxPerStream} webhooks, the most a stream can have.");
        var secret = NewSecret();
        var w = new Webhook
        {
            ServerId = serverId,
            Stream = streamId,
            Url = CheckUrl(r.Url, options.AllowPrivateDestinations),
            SecretProtected = secrets.ProtectKey(secret),
            CreatedAt = clock.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        Apply(w, r);
        db.Webhooks.Add(w);
        await db.SaveChangesAsync(ct);
        return ToResponse(w, secret);
    }

    public async Task<WebhookResponse> EditAsync(int serverId, int id, WebhookRequest? r, CancellationToken ct)
    {
        var w = await FindAsync(serverId, id, ct, tracking: true);
        if (r is null)
            throw new MailroomException(PostmarkErrors.WebhookBodyEmpty, "The request body is empty: give the fields to change.");
        if (r.ID is { } given && given != id)
            throw new MailroomException(PostmarkErrors.WebhookFieldChanged, "A webhook's 'ID' cannot be changed.");
        if (r.MessageStream is { } s && s.Trim() != w.Stream)
            throw new MailroomException(PostmarkErrors.WebhookFieldChanged, "A webhook's 'MessageStream' cannot be changed: delete it and create one on the other stream.");
        if (r.Url is not null)
            w.Url = CheckUrl(r.Url, options.AllowPrivateDestinations);
        Apply(w, r);
        await db.SaveChangesAsync(ct);
        return ToResponse(w, null);
    }

    public async Task DeleteAsync(int serverId, int id, CancellationToken ct)
    {
        var w = await FindAsync(serverId, id, ct, tracking: true);
        db.Webhooks.Remove(w);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Mailroom extension: a new signing secret; the old one keeps signing (a second v1=) for 24 hours.</summary>
    public async Task<WebhookResponse> RotateSecretAsync(int serverId, int id, CancellationToken ct)
    {
        var w = await FindAsync(serverId, id, ct, tracking: true);
        var secret = NewSecret();
        w.PreviousSecretProtected = w.SecretProtected;
        w.PreviousSecretUntil = (clock.GetUtcNow() + PreviousSecretGrace).ToUnixTimeMilliseconds();
        w.SecretProtected = secrets.ProtectKey(secret);
        await db.SaveChangesAsync(ct);
        return ToResponse(w, secret);
    }

    public async Task<WebhookAttemptList> AttemptsAsync(int serverId, int id, int count, CancellationToken ct)
    {
        await FindAsync(serverId, id, ct, tracking: false);
        var rows = await db.WebhookAttempts.AsNoTracking().Where(a => a.ServerId == serverId && a.WebhookId == id)
            .OrderByDescending(a => a.Id).Take(Math.Clamp(count, 1, 500)).ToListAsync(ct);
        return new WebhookAttemptList(rows.Select(a => new WebhookAttemptResponse(a.Id, a.EventId, a.RecordType,
            DateTimeOffset.FromUnixTimeMilliseconds(a.At), a.StatusCode, a.DurationMs, a.Error, a.Outcome)).ToList());
    }

    private async Task<Webhook> FindAsync(int serverId, int id, CancellationToken ct, bool tracking)
    {
        var q = tracking ? db.Webhooks : db.Webhooks.AsNoTracking();
        return await q.FirstOrDefaultAsync(w => w.ServerId == serverId && w.Id == id, ct)
            ?? throw new MailroomException(PostmarkErrors.WebhookNotFound, $"No webhook was found with ID {id}.");
    }

    private void Apply(Webhook w, WebhookRequest r)
    {
        if (r.HttpAuth is { } auth)
        {
            w.HttpAuthUsername = string.IsNullOrEmpty(auth.Username) ? null : auth.Username;
            w.HttpAuthPasswordProtected = string.IsNullOrEmpty(auth.Password) ? null : secrets.ProtectKey(auth.Password);
        }
        if (r.HttpHeaders is { } headers)
        {
            var list = new List<WebhookHeader>();
            foreach (var h in headers)
            {
                var name = h?.Name?.Trim() ?? "";
                // RFC 9110 §5.1: a field name is a token. Headers the dispatcher sets itself cannot be overridden.
                if (!HeaderName().IsMatch(name) || Reserved.Contains(name))
                    throw new MailroomException(PostmarkErrors.InvalidWebhookHeaderName, $"Invalid header 'Name': '{h?.Name}'. Use a header field name (RFC 9110 token) other than {string.Join(", ", Reserved)}.");
                var value = h!.Value ?? "";
                if (value.Any(c => c is '\r' or '\n' or '\0'))
                    throw new MailroomException(PostmarkErrors.InvalidWebhookField, $"The value of header '{name}' contains a line break.");
                list.Add(new WebhookHeader(name, value));
            }
            w.HttpHeadersJson = JsonSerializer.Serialize(list);
        }
        if (r.Triggers is { } t)
        {
            if (t.Open is { } open)
            {
                w.OpenEnabled = open.Enabled ?? w.OpenEnabled;
                w.OpenPostFirstOpenOnly = open.PostFirstOpenOnly ?? w.OpenPostFirstOpenOnly;
            }
            if (t.Click is { } click) w.ClickEnabled = click.Enabled ?? w.ClickEnabled;
            if (t.Delivery is { } delivery) w.DeliveryEnabled = delivery.Enabled ?? w.DeliveryEnabled;
            if (t.Bounce is { } bounce)
            {
                w.BounceEnabled = bounce.Enabled ?? w.BounceEnabled;
                w.BounceIncludeContent = bounce.IncludeContent ?? w.BounceIncludeContent;
            }
            if (t.SpamComplaint is { } spam)
            {
                w.SpamComplaintEnabled = spam.Enabled ?? w.SpamComplaintEnabled;
                w.SpamComplaintIncludeContent = spam.IncludeContent ?? w.SpamComplaintIncludeContent;
            }
            if (t.SubscriptionChange is { } sub) w.SubscriptionChangeEnabled = sub.Enabled ?? w.SubscriptionChangeEnabled;
        }
    }

    private static readonly string[] Reserved = ["Content-Type", "Content-Length", "Host", "Authorization", "X-PM-Retries-Remaining",
        "X-PM-Webhook-Trace-Id", "X-Mailroom-Signature", "Transfer-Encoding", "Connection"];

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
    private static partial Regex HeaderName();

    /// <summary>
    /// An absolute http(s) URL. A literal IP that the policy refuses is refused here with a clear message; a name is
    /// accepted even when it does not resolve yet, and is checked at each send (after DNS, where the socket connects).
    /// </summary>
    public static string CheckUrl(string? value, bool allowPrivate)
    {
        value = value?.Trim() ?? "";
        if (value.Length == 0)
            throw new MailroomException(PostmarkErrors.InvalidWebhookUrl, "A webhook needs a 'Url'.");
        if (value.Length > 2000 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
            throw new MailroomException(PostmarkErrors.InvalidWebhookUrl, $"Invalid 'Url': '{value}'. Use an absolute http or https URL.");
        if (!allowPrivate)
        {
            var host = uri.Host.Trim('[', ']');
            if (IPAddress.TryParse(host, out var ip) && WebhookDestinations.IsRefused(ip))
                throw new MailroomException(PostmarkErrors.InvalidWebhookUrl, $"Invalid 'Url': '{value}'. " + WebhookDestinations.Refusal(ip));
            if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
                throw new MailroomException(PostmarkErrors.InvalidWebhookUrl, $"Invalid 'Url': '{value}'. 'localhost' names the loopback interface (RFC 6761 §6.3); webhooks may not reach it.");
        }
        return value;
    }

    private static string NewSecret() => "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private WebhookResponse ToResponse(Webhook w, string? secret) => new()
    {
        ID = w.Id,
        Url = w.Url,
        MessageStream = w.Stream,
        HttpAuth = w.HttpAuthUsername is null && w.HttpAuthPasswordProtected is null
            ? null
            : new WebhookHttpAuth(w.HttpAuthUsername ?? "", w.HttpAuthPasswordProtected is { } p ? secrets.UnprotectKey(p) : ""),
        HttpHeaders = JsonSerializer.Deserialize<List<WebhookHeader>>(w.HttpHeadersJson) ?? [],
        Triggers = new WebhookTriggers
        {
            Open = new OpenTrigger(w.OpenEnabled, w.OpenPostFirstOpenOnly),
            Click = new EnabledTrigger(w.ClickEnabled),
            Delivery = new EnabledTrigger(w.DeliveryEnabled),
            Bounce = new ContentTrigger(w.BounceEnabled, w.BounceIncludeContent),
            SpamComplaint = new ContentTrigger(w.SpamComplaintEnabled, w.SpamComplaintIncludeContent),
            SubscriptionChange = new EnabledTrigger(w.SubscriptionChangeEnabled),
        },
        SigningSecret = secret,
    };
}
