using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Mailroom.Core.Ingress;

/// <summary>A server that sends: its settings and its streams (by stream ID), read once per request or SMTP message.</summary>
public sealed record SendingServer(ServerIdentity Identity, Server Server, IReadOnlyDictionary<string, MessageStream> Streams);

/// <summary>
/// What a front door (Email API, SMTP submission) has made of one message, ready for the queue: the MIME to send
/// and the fields the Messages API shows.
/// </summary>
public sealed record AdmittedMessage
{
    public required Guid Id { get; init; }
    public required string Stream { get; init; }
    public required NamedAddress From { get; init; }
    public IReadOnlyList<NamedAddress> To { get; init; } = [];
    public IReadOnlyList<NamedAddress> Cc { get; init; } = [];
    public IReadOnlyList<NamedAddress> Bcc { get; init; } = [];
    public string Subject { get; init; } = "";
    public string Tag { get; init; } = "";
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
    public IReadOnlyList<string> AttachmentNames { get; init; } = [];
    public bool TrackOpens { get; init; }
    public LinkTracking TrackLinks { get; init; }
    public required byte[] Mime { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>
/// The rules every way into the outbound queue shares, so the Email API (<see cref="EmailIngress"/>) and SMTP
/// submission (<see cref="SmtpIngress"/>) cannot drift apart: the sending stream, the limits on recipients, tag,
/// metadata and tracking, sender authorization (spec §5.3), inactive recipients (spec §7), and the durable,
/// group-committed hand-off to <see cref="OutboundQueue"/>. Each refusal is a <see cref="MailroomException"/>
/// with Postmark's error code; each front door words it for its protocol.
/// </summary>
public sealed class OutboundAdmission(MailroomDb db, OutboundQueue queue, SigningResolver signing, SettingsCache cache)
{
    /// <summary>To, Cc and Bcc together (spec §2.2).</summary>
    public const int MaxRecipients = 50;
    /// <summary>The whole message (spec §2.2; Postmark's SMTP limit too).</summary>
    public const int MaxMessageBytes = 10 * 1024 * 1024;
    public const int MaxTagLength = 1000;
    public const int MaxMetadataKeys = 10;
    public const int MaxMetadataKeyLength = 20;
    public const int MaxMetadataValueLength = 80;

    /// <summary>The server and its streams (kept in the <see cref="SettingsCache"/>: shared, read-only); an unknown
    /// server (deleted since the token was checked) is 10.</summary>
    public async Task<SendingServer> LoadServerAsync(ServerIdentity id, CancellationToken ct) =>
        await cache.GetOrLoadAsync("sending-server", id, async () =>
        {
            var server = await db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id.ServerId && s.AccountId == id.AccountId, ct);
            if (server is null)
                return null;
            var streams = await db.MessageStreams.AsNoTracking().Where(s => s.ServerId == id.ServerId).ToDictionaryAsync(s => s.StreamId, ct);
            return new SendingServer(id, server, streams);
        }) ?? throw new MailroomException(PostmarkErrors.InvalidToken, "The server API token is not valid.", 401);

    /// <summary>The stream a message goes to (default <c>outbound</c>): 1235 if unknown or archived, 1236 if inbound.</summary>
    public static string ResolveStream(SendingServer server, string? requested, string field = "MessageStream")
    {
        var streamId = string.IsNullOrWhiteSpace(requested) ? Mailroom.Contracts.DefaultStreams.Outbound : requested.Trim();
        if (!server.Streams.TryGetValue(streamId, out var stream) || stream.ArchivedAt is not null)
            throw new MailroomException(PostmarkErrors.MessageStreamNotFound, $"The message stream for the provided '{field}' was not found: '{streamId}'.");
        if (stream.Type == MessageStreamType.Inbound)
            throw new MailroomException(PostmarkErrors.MessageStreamCannotSend, $"The message stream '{streamId}' is an inbound stream and cannot send mail.");
        return streamId;
    }

    public static void CheckRecipientCount(int count)
    {
        if (count == 0)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "Zero recipients specified.");
        if (count > MaxRecipients)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Too many recipients: {count}. A message may have at most {MaxRecipients} To, Cc and Bcc recipients together.");
    }

    /// <summary>One tag of at most 1000 characters on one line; absent is "".</summary>
    public static string CheckTag(string? tag, string field = "Tag")
    {
        if (tag is { Length: > MaxTagLength })
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The '{field}' is longer than {MaxTagLength} characters.");
        if (tag is not null && tag.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The '{field}' must not contain line breaks.");
        return tag ?? "";
    }

    /// <summary>At most 10 keys of 1–20 characters, values of at most 80, no key twice ignoring case (spec §2.2).</summary>
    public static Dictionary<string, string> CheckMetadata(IEnumerable<KeyValuePair<string, string?>>? metadata)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (metadata is null)
            return result;
        var items = metadata.ToList();
        if (items.Count > MaxMetadataKeys)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"'Metadata' may hold at most {MaxMetadataKeys} keys.");
        foreach (var (key, value) in items)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxMetadataKeyLength)
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Metadata key '{key}' must be 1 to {MaxMetadataKeyLength} characters.");
            if (value is { Length: > MaxMetadataValueLength })
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Metadata value of '{key}' is longer than {MaxMetadataValueLength} characters.");
            if (!result.TryAdd(key, value ?? ""))
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Metadata key '{key}' is given twice.");
        }
        return result;
    }

    /// <summary>Link tracking asked for (None, HtmlAndText, HtmlOnly, TextOnly), else the server's setting.</summary>
    public static LinkTracking CheckTrackLinks(SendingServer server, string? requested, string field = "TrackLinks")
    {
        if (requested is null)
            return server.Server.TrackLinks;
        if (!Enum.TryParse<LinkTracking>(requested.Trim(), ignoreCase: true, out var value) || !Enum.IsDefined(value) || int.TryParse(requested, out _))
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Invalid '{field}': '{requested}'. Use None, HtmlAndText, HtmlOnly or TextOnly.");
        return value;
    }

    /// <summary>The server's TrackOpens=true forces it on (spec §2.2); otherwise the message decides.</summary>
    public static bool TrackOpens(SendingServer server, bool? requested) => server.Server.TrackOpens || (requested ?? false);

    /// <summary>Whether the From address may send (spec §5.3): 400/401 with the sender identities' words if not. The
    /// answer comes from the node's <see cref="SettingsCache"/> after the first message of a sender.</summary>
    public async Task AuthorizeSenderAsync(SendingServer server, string fromAddress, CancellationToken ct)
    {
        var material = await signing.ResolveAsync(server.Identity.AccountId, fromAddress, ct);
        if (material.Refusal is { } refusal)
            throw new MailroomException(material.RefusalCode, refusal);
    }

    /// <summary>
    /// Makes the messages durable in one group commit, each without its inactive recipients (hard bounce, spam
    /// complaint, manual suppression on its stream): the queue looks them up once for the whole group commit. A message
    /// none of whose recipients is active is refused with 406, as Postmark answers, and not stored. Results are in the
    /// order given: null for a message stored, else its refusal. Returns after the commit (accepted means durable).
    /// </summary>
    public async Task<IReadOnlyList<MailroomException?>> EnqueueActiveAsync(IReadOnlyList<QueuedMessage> messages, CancellationToken ct)
    {
        var inactive = await queue.EnqueueActiveAsync(messages, ct);
        return messages.Select((m, i) => inactive[i].Count > 0 && inactive[i].Count == m.Recipients.Count
            ? new MailroomException(PostmarkErrors.InactiveRecipient, $"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: {string.Join(", ", inactive[i])}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.")
            : null).ToList();
    }

    /// <summary>The row the queue stores for an admitted message, with its envelope recipients.</summary>
    public static QueuedMessage ToQueued(SendingServer server, AdmittedMessage m, IReadOnlyList<string> recipients) => new(new OutboundMessage
    {
        Id = m.Id,
        AccountId = server.Identity.AccountId,
        ServerId = server.Identity.ServerId,
        Stream = m.Stream,
        From = Format(m.From),
        Subject = m.Subject,
        Tag = m.Tag,
        ToJson = JsonSerializer.Serialize(m.To.Select(a => new EmailName(a.Address, a.Name))),
        CcJson = JsonSerializer.Serialize(m.Cc.Select(a => new EmailName(a.Address, a.Name))),
        BccJson = JsonSerializer.Serialize(m.Bcc.Select(a => new EmailName(a.Address, a.Name))),
        MetadataJson = JsonSerializer.Serialize(m.Metadata),
        AttachmentNamesJson = JsonSerializer.Serialize(m.AttachmentNames),
        TrackOpens = m.TrackOpens,
        TrackLinks = m.TrackLinks.ToString(),
        Mime = m.Mime,
        ReceivedAt = m.ReceivedAt.ToUnixTimeMilliseconds(),
        TraceParent = MailroomMetrics.AcceptSpan(m.Id),
    }, recipients);

    /// <summary><c>Name &lt;address&gt;</c> as the Messages API shows a sender, encoded like a header (RFC 2047) when needed.</summary>
    public static string Format(NamedAddress a) => new MailboxAddress(a.Name ?? "", a.Address).ToString(true);
}
