using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Mailroom.Core.Ingress;

/// <summary>
/// The Email API's front door (spec §2): validates each message in Postmark's order and with its error codes,
/// authorizes the From address, composes the MIME, and hands everything accepted to the durable queue in one
/// group commit. Nothing is answered "accepted" before it is committed.
/// </summary>
public sealed class EmailIngress(MailroomDb db, OutboundQueue queue, SigningResolver signing, MessageComposer composer,
    RecipientSuppressions suppressions, TimeProvider clock)
{
    public const int MaxRecipients = 50;
    public const int MaxBatch = 500;
    public const int MaxMessageBytes = 10 * 1024 * 1024;

    private static readonly HashSet<string> ForbiddenExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        "vbs", "exe", "bin", "bat", "chm", "com", "cpl", "crt", "hlp", "hta", "inf", "ins", "isp", "jse", "lnk", "mdb",
        "pcd", "pif", "reg", "scr", "sct", "shs", "vbe", "vba", "wsf", "wsh", "wsl", "msc", "msi", "msp", "mst",
    };

    /// <summary>One message: the result, or a <see cref="MailroomException"/> with Postmark's code.</summary>
    public async Task<SendResult> SendAsync(ServerIdentity server, EmailRequest request, CancellationToken ct)
    {
        var results = await SendBatchAsync(server, [request], ct);
        var r = results[0];
        if (r.ErrorCode != 0)
            throw new MailroomException(r.ErrorCode, r.Message);
        return r;
    }

    /// <summary>Each message on its own: a bad one gets its error, the others are accepted. Results in request order.</summary>
    public async Task<IReadOnlyList<SendResult>> SendBatchAsync(ServerIdentity server, IReadOnlyList<EmailRequest?> requests, CancellationToken ct)
    {
        if (requests.Count > MaxBatch)
            throw new MailroomException(410, $"Batch of {requests.Count} messages refused: at most {MaxBatch} are allowed.");
        var context = await LoadContextAsync(server, ct);
        var results = new SendResult[requests.Count];
        var accepted = new List<(int Index, QueuedMessage Message, string To)>(requests.Count);
        var now = clock.GetUtcNow();
        var authorizations = new Dictionary<string, SigningMaterial>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < requests.Count; i++)
        {
            try
            {
                var (queued, to) = await AcceptOneAsync(server, context, requests[i], now, authorizations, ct);
                accepted.Add((i, queued, to));
            }
            catch (MailroomException e)
            {
                results[i] = new SendResult { ErrorCode = e.ErrorCode, Message = e.Message };
            }
        }
        accepted = await DropInactiveAsync(server, accepted, results, ct);
        await queue.EnqueueAsync(accepted.Select(a => a.Message).ToList(), ct);
        foreach (var (index, message, to) in accepted)
            results[index] = new SendResult { To = to, SubmittedAt = now, MessageID = message.Message.Id, ErrorCode = 0, Message = "OK" };
        return results;
    }

    /// <summary>
    /// Inactive recipients of each message's stream (one query for the whole batch): a message none of whose
    /// recipients is active is refused with 406; otherwise the inactive ones are left out of its envelope.
    /// </summary>
    private async Task<List<(int Index, QueuedMessage Message, string To)>> DropInactiveAsync(ServerIdentity server,
        List<(int Index, QueuedMessage Message, string To)> accepted, SendResult[] results, CancellationToken ct)
    {
        if (accepted.Count == 0)
            return accepted;
        var inactive = await suppressions.FindSuppressedAsync(server.ServerId,
            accepted.Select(a => a.Message.Message.Stream).Distinct().ToList(),
            accepted.SelectMany(a => a.Message.Recipients).Distinct(StringComparer.OrdinalIgnoreCase).ToList(), ct);
        if (inactive.Count == 0)
            return accepted;
        var kept = new List<(int Index, QueuedMessage Message, string To)>(accepted.Count);
        foreach (var a in accepted)
        {
            var stream = a.Message.Message.Stream;
            var gone = a.Message.Recipients.Where(r => inactive.Contains((stream, r.ToLowerInvariant()))).ToList();
            if (gone.Count == 0)
            {
                kept.Add(a);
            }
            else if (gone.Count == a.Message.Recipients.Count)
            {
                results[a.Index] = new SendResult
                {
                    ErrorCode = 406,
                    Message = $"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: {string.Join(", ", gone)}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.",
                };
            }
            else
            {
                kept.Add(a with { Message = a.Message with { Recipients = a.Message.Recipients.Except(gone, StringComparer.OrdinalIgnoreCase).ToList() } });
            }
        }
        return kept;
    }

    private sealed record ServerContext(Server Server, Dictionary<string, MessageStream> Streams);

    private async Task<ServerContext> LoadContextAsync(ServerIdentity id, CancellationToken ct)
    {
        var server = await db.Servers.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id.ServerId && s.AccountId == id.AccountId, ct)
            ?? throw new MailroomException(10, "The server API token is not valid.", 401);
        var streams = await db.MessageStreams.AsNoTracking().Where(s => s.ServerId == id.ServerId).ToDictionaryAsync(s => s.StreamId, ct);
        return new ServerContext(server, streams);
    }

    private async Task<(QueuedMessage, string)> AcceptOneAsync(ServerIdentity server, ServerContext context, EmailRequest? r,
        DateTimeOffset now, Dictionary<string, SigningMaterial> authorizations, CancellationToken ct)
    {
        if (r is null)
            throw new MailroomException(402, "The batch holds an item that is not a message object.");
        // Stream first: an unknown stream makes every other check moot.
        var streamId = string.IsNullOrWhiteSpace(r.MessageStream) ? "outbound" : r.MessageStream.Trim();
        if (!context.Streams.TryGetValue(streamId, out var stream) || stream.ArchivedAt is not null)
            throw new MailroomException(1235, $"The message stream for the provided 'MessageStream' was not found: '{streamId}'.");
        if (stream.Type == MessageStreamType.Inbound)
            throw new MailroomException(1236, $"The message stream '{streamId}' is an inbound stream and cannot send mail.");

        // Addresses.
        if (string.IsNullOrWhiteSpace(r.From))
            throw new MailroomException(300, "Invalid 'From' address: ''.");
        var from = ParseList(r.From, "From");
        if (from.Count != 1)
            throw new MailroomException(300, $"Invalid 'From' address: '{r.From}'.");
        var to = ParseList(r.To, "To");
        var cc = ParseList(r.Cc, "Cc");
        var bcc = ParseList(r.Bcc, "Bcc");
        var replyTo = ParseList(r.ReplyTo, "ReplyTo");
        var count = to.Count + cc.Count + bcc.Count;
        if (count == 0)
            throw new MailroomException(300, "Zero recipients specified.");
        if (count > MaxRecipients)
            throw new MailroomException(300, $"Too many recipients: {count}. A message may have at most {MaxRecipients} To, Cc and Bcc recipients together.");

        // Content.
        if (string.IsNullOrEmpty(r.TextBody) && string.IsNullOrEmpty(r.HtmlBody))
            throw new MailroomException(300, "Provide either email TextBody or HtmlBody or both.");
        if (r.Subject is { Length: > 2000 })
            throw new MailroomException(300, "The 'Subject' is longer than 2000 characters.");
        if (r.Tag is { Length: > 1000 })
            throw new MailroomException(300, "The 'Tag' is longer than 1000 characters.");
        if (r.Tag is not null && r.Tag.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new MailroomException(300, "The 'Tag' must not contain line breaks.");
        long size = (r.TextBody?.Length ?? 0) + (r.HtmlBody?.Length ?? 0);
        if ((r.TextBody?.Length ?? 0) > 5 * 1024 * 1024 || (r.HtmlBody?.Length ?? 0) > 5 * 1024 * 1024)
            throw new MailroomException(300, "The 'TextBody' and 'HtmlBody' may each be at most 5 MB.");
        var metadata = ValidateMetadata(r.Metadata);
        var headers = new List<MessageHeader>();
        foreach (var h in r.Headers ?? [])
        {
            if (h is null || string.IsNullOrWhiteSpace(h.Name))
                throw new MailroomException(300, "Each item of 'Headers' needs a 'Name'.");
            headers.Add(new MessageHeader(h.Name, h.Value ?? ""));
        }
        var attachments = new List<MessageAttachment>();
        foreach (var a in r.Attachments ?? [])
        {
            if (a is null || string.IsNullOrWhiteSpace(a.Name))
                throw new MailroomException(300, "Each attachment needs a 'Name'.");
            var ext = Path.GetExtension(a.Name).TrimStart('.');
            if (ForbiddenExtensions.Contains(ext))
                throw new MailroomException(411, $"Attachment '{a.Name}' is of a forbidden type ('.{ext}').");
            if (a.Content is null)
                throw new MailroomException(300, $"Attachment '{a.Name}' has no 'Content'.");
            size += a.Content.Length;
            if (size > MaxMessageBytes)
                throw new MailroomException(300, "The message is larger than 10 MB.");
            byte[] content;
            try
            {
                content = Convert.FromBase64String(a.Content);
            }
            catch (FormatException)
            {
                throw new MailroomException(300, $"Attachment '{a.Name}' has 'Content' that is not valid base64.");
            }
            var cid = string.IsNullOrWhiteSpace(a.ContentID) ? null : a.ContentID.Trim();
            if (cid is not null && cid.StartsWith("cid:", StringComparison.OrdinalIgnoreCase))
                cid = cid[4..];
            attachments.Add(new MessageAttachment(a.Name, content, string.IsNullOrWhiteSpace(a.ContentType) ? null : a.ContentType, cid));
        }
        if (size > MaxMessageBytes)
            throw new MailroomException(300, "The message is larger than 10 MB.");
        var trackLinks = context.Server.TrackLinks;
        if (r.TrackLinks is not null)
        {
            if (!Enum.TryParse<LinkTracking>(r.TrackLinks, ignoreCase: true, out trackLinks) || !Enum.IsDefined(trackLinks) || int.TryParse(r.TrackLinks, out _))
                throw new MailroomException(300, $"Invalid 'TrackLinks': '{r.TrackLinks}'. Use None, HtmlAndText, HtmlOnly or TextOnly.");
        }
        // Server setting TrackOpens=true forces it on (spec §2.2).
        var trackOpens = context.Server.TrackOpens || (r.TrackOpens ?? false);

        // Sender identity: 400 / 401 (spec §5.3).
        var fromAddress = from[0].Address;
        if (!authorizations.TryGetValue(fromAddress, out var material))
            authorizations[fromAddress] = material = await signing.ResolveAsync(server.AccountId, fromAddress, ct);
        if (material.Refusal is { } refusal)
            throw new MailroomException(material.RefusalCode, refusal);

        var recipients = to.Concat(cc).Concat(bcc).Select(a => a.Address).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

        var id = Guid.NewGuid();
        MimeMessage mime;
        try
        {
            mime = composer.Compose(new OutboundMessageSpec
            {
                From = from[0],
                To = to,
                Cc = cc,
                Bcc = bcc,
                ReplyTo = replyTo,
                Subject = r.Subject,
                TextBody = r.TextBody,
                HtmlBody = r.HtmlBody,
                Headers = headers,
                Attachments = attachments,
                MessageId = id,
                Date = now,
            });
        }
        catch (CompositionException e)
        {
            throw new MailroomException(300, e.Message);
        }
        using var bytes = new MemoryStream();
        mime.WriteTo(FormatOptions.Default, bytes, ct);

        var message = new OutboundMessage
        {
            Id = id,
            AccountId = server.AccountId,
            ServerId = server.ServerId,
            Stream = streamId,
            From = FormatAddress(from[0]),
            Subject = r.Subject ?? "",
            Tag = r.Tag ?? "",
            ToJson = JsonSerializer.Serialize(to.Select(a => new EmailName(a.Address, a.Name))),
            CcJson = JsonSerializer.Serialize(cc.Select(a => new EmailName(a.Address, a.Name))),
            BccJson = JsonSerializer.Serialize(bcc.Select(a => new EmailName(a.Address, a.Name))),
            MetadataJson = JsonSerializer.Serialize(metadata),
            AttachmentNamesJson = JsonSerializer.Serialize(attachments.Select(a => a.Name)),
            TrackOpens = trackOpens,
            TrackLinks = trackLinks.ToString(),
            Mime = bytes.ToArray(),
            TextBody = r.TextBody ?? "",
            HtmlBody = r.HtmlBody ?? "",
            ReceivedAt = now.ToUnixTimeMilliseconds(),
        };
        return (new QueuedMessage(message, recipients), string.Join(", ", to.Select(FormatAddress)));
    }

    private static IReadOnlyList<NamedAddress> ParseList(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
            return [];
        if (!AddressListParser.TryParse(value, field, out var list, out var error))
            throw new MailroomException(300, error.Message);
        return list;
    }

    private static string FormatAddress(NamedAddress a) => new MailboxAddress(a.Name ?? "", a.Address).ToString(true);

    private static Dictionary<string, string> ValidateMetadata(Dictionary<string, string?>? metadata)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (metadata is null)
            return result;
        if (metadata.Count > 10)
            throw new MailroomException(300, "'Metadata' may hold at most 10 keys.");
        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > 20)
                throw new MailroomException(300, $"Metadata key '{key}' must be 1 to 20 characters.");
            if (value is { Length: > 80 })
                throw new MailroomException(300, $"Metadata value of '{key}' is longer than 80 characters.");
            if (!result.TryAdd(key, value ?? ""))
                throw new MailroomException(300, $"Metadata key '{key}' is given twice.");
        }
        return result;
    }
}
