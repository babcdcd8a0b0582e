using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Accounts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Core.Templates;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Mailroom.Core.Ingress;

/// <summary>
/// The Email API's front door (spec §2): validates each message in Postmark's order and with its error codes,
/// composes the MIME, and hands everything accepted to the durable queue in one group commit. The rules it
/// shares with SMTP submission (stream, limits, sender authorization, inactive recipients, enqueue) live in
/// <see cref="OutboundAdmission"/>. Nothing is answered "accepted" before it is committed.
/// </summary>
public sealed class EmailIngress(OutboundAdmission admission, MessageComposer composer, TimeProvider clock, TemplateRendering? templates = null)
{
    public const int MaxRecipients = OutboundAdmission.MaxRecipients;
    public const int MaxBatch = 500;
    public const int MaxMessageBytes = OutboundAdmission.MaxMessageBytes;

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
            throw new MailroomException(PostmarkErrors.TooManyBatchMessages, $"Batch of {requests.Count} messages refused: at most {MaxBatch} are allowed.");
        var context = await admission.LoadServerAsync(server, ct);
        var results = new SendResult[requests.Count];
        var accepted = new List<(int Index, QueuedMessage Message, string To)>(requests.Count);
        var now = clock.GetUtcNow();
        for (var i = 0; i < requests.Count; i++)
        {
            try
            {
                var (queued, to) = await AcceptOneAsync(context, requests[i], now, ct);
                accepted.Add((i, queued, to));
            }
            catch (MailroomException e)
            {
                results[i] = new SendResult { ErrorCode = e.ErrorCode, Message = e.Message };
            }
        }
        // Inactive recipients are left out (406 when none is left) inside the group commit that makes the rest durable.
        var outcome = await admission.EnqueueActiveAsync(accepted.Select(a => a.Message).ToList(), ct);
        for (var i = 0; i < accepted.Count; i++)
        {
            var (index, message, to) = accepted[i];
            results[index] = outcome[i] is { } refused
                ? new SendResult { ErrorCode = refused.ErrorCode, Message = refused.Message }
                : new SendResult { To = to, SubmittedAt = now, MessageID = message.Message.Id, ErrorCode = PostmarkErrors.None, Message = "OK" };
        }
        return results;
    }

    /// <summary><c>POST /email/withTemplate</c>: renders, then sends the rendered message like <see cref="SendAsync"/>.</summary>
    public async Task<SendResult> SendWithTemplateAsync(ServerIdentity server, TemplatedEmailRequest request, CancellationToken ct)
    {
        var r = (await SendBatchWithTemplatesAsync(server, [request], ct))[0];
        return r.ErrorCode != 0 ? throw new MailroomException(r.ErrorCode, r.Message) : r;
    }

    /// <summary>
    /// <c>POST /email/batchWithTemplates</c> (spec §2.4): each message is rendered before anything is accepted, so a
    /// bad template or model is that message's error; the rendered ones take the single/batch path above and are
    /// queued, signed and tracked like any other. Results in request order.
    /// </summary>
    public async Task<IReadOnlyList<SendResult>> SendBatchWithTemplatesAsync(ServerIdentity server, IReadOnlyList<TemplatedEmailRequest?> requests, CancellationToken ct)
    {
        if (requests.Count > MaxBatch)
            throw new MailroomException(PostmarkErrors.TooManyBatchMessages, $"Batch of {requests.Count} messages refused: at most {MaxBatch} are allowed.");
        if (templates is null)
            throw new InvalidOperationException("Templates are not registered.");
        var results = new SendResult[requests.Count];
        var rendered = new List<(int Index, EmailRequest Request, TemplateRendering.Rendered Content)>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            if (requests[i] is not { } r)
            {
                results[i] = new SendResult { ErrorCode = PostmarkErrors.InvalidJson, Message = "The batch holds an item that is not a message object." };
                continue;
            }
            try
            {
                var content = await templates.RenderForSendAsync(server.ServerId, r, ct);
                rendered.Add((i, (EmailRequest)(r with { Subject = content.Subject, HtmlBody = content.HtmlBody, TextBody = content.TextBody }), content));
            }
            catch (MailroomException e)
            {
                results[i] = new SendResult { ErrorCode = e.ErrorCode, Message = e.Message };
            }
        }
        var sent = await SendBatchAsync(server, rendered.Select(x => (EmailRequest?)x.Request).ToList(), ct);
        for (var i = 0; i < rendered.Count; i++)
            results[rendered[i].Index] = sent[i];
        // After the messages are durable: which template version each came from (details only, not delivery).
        await templates.RecordSendsAsync(server.ServerId,
            rendered.Select((x, i) => (sent[i].MessageID, x.Content)).Where(x => x.MessageID is not null)
                .Select(x => (x.MessageID!.Value, x.Content)).ToList(), ct);
        return results;
    }

    /// <summary>One message of a request, checked in Postmark's order (each step throws its refusal): stream, addresses,
    /// content, tracking, sender identity; then composed and made a queue row.</summary>
    private async Task<(QueuedMessage, string)> AcceptOneAsync(SendingServer context, EmailRequest? r,
        DateTimeOffset now, CancellationToken ct)
    {
        if (r is null)
            throw new MailroomException(PostmarkErrors.InvalidJson, "The batch holds an item that is not a message object.");
        // Stream first: an unknown stream makes every other check moot.
        var streamId = OutboundAdmission.ResolveStream(context, r.MessageStream);
        var addresses = ReadAddresses(r);
        var content = ReadContent(r);
        var trackLinks = OutboundAdmission.CheckTrackLinks(context, r.TrackLinks);
        var trackOpens = OutboundAdmission.TrackOpens(context, r.TrackOpens);
        // Sender identity: 400 / 401 (spec §5.3).
        await admission.AuthorizeSenderAsync(context, addresses.From.Address, ct);

        var id = OutboundMessage.NewId(now);
        var mime = Compose(r, addresses, content, id, now, ct);
        var recipients = addresses.To.Concat(addresses.Cc).Concat(addresses.Bcc).Select(a => a.Address)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var queued = OutboundAdmission.ToQueued(context, new AdmittedMessage
        {
            Id = id,
            Stream = streamId,
            From = addresses.From,
            To = addresses.To,
            Cc = addresses.Cc,
            Bcc = addresses.Bcc,
            Subject = r.Subject ?? "",
            Tag = content.Tag,
            Metadata = content.Metadata,
            AttachmentNames = content.Attachments.Select(a => a.Name).ToList(),
            TrackOpens = trackOpens,
            TrackLinks = trackLinks,
            Mime = mime,
            ReceivedAt = now,
        }, recipients);
        return (queued, string.Join(", ", addresses.To.Select(OutboundAdmission.Format)));
    }

    private sealed record Addresses(NamedAddress From, IReadOnlyList<NamedAddress> To, IReadOnlyList<NamedAddress> Cc,
        IReadOnlyList<NamedAddress> Bcc, IReadOnlyList<NamedAddress> ReplyTo);

    /// <summary>Step: exactly one From, readable To/Cc/Bcc/ReplyTo lists, and a recipient count within the limit.</summary>
    private static Addresses ReadAddresses(EmailRequest r)
    {
        if (string.IsNullOrWhiteSpace(r.From))
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "Invalid 'From' address: ''.");
        var from = ParseList(r.From, "From");
        if (from.Count != 1)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Invalid 'From' address: '{r.From}'.");
        var to = ParseList(r.To, "To");
        var cc = ParseList(r.Cc, "Cc");
        var bcc = ParseList(r.Bcc, "Bcc");
        var replyTo = ParseList(r.ReplyTo, "ReplyTo");
        OutboundAdmission.CheckRecipientCount(to.Count + cc.Count + bcc.Count);
        return new Addresses(from[0], to, cc, bcc, replyTo);
    }

    private sealed record Content(string Tag, Dictionary<string, string> Metadata, List<MessageHeader> Headers, List<MessageAttachment> Attachments);

    /// <summary>Step: a body, field limits, tag, metadata, headers, and attachments (allowed types, base64, total size).</summary>
    private static Content ReadContent(EmailRequest r)
    {
        if (string.IsNullOrEmpty(r.TextBody) && string.IsNullOrEmpty(r.HtmlBody))
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "Provide either email TextBody or HtmlBody or both.");
        if (r.Subject is { Length: > 2000 })
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The 'Subject' is longer than 2000 characters.");
        var tag = OutboundAdmission.CheckTag(r.Tag);
        long size = (r.TextBody?.Length ?? 0) + (r.HtmlBody?.Length ?? 0);
        if ((r.TextBody?.Length ?? 0) > 5 * 1024 * 1024 || (r.HtmlBody?.Length ?? 0) > 5 * 1024 * 1024)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The 'TextBody' and 'HtmlBody' may each be at most 5 MB.");
        var metadata = OutboundAdmission.CheckMetadata(r.Metadata);
        var headers = new List<MessageHeader>();
        foreach (var h in r.Headers ?? [])
        {
            if (h is null || string.IsNullOrWhiteSpace(h.Name))
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "Each item of 'Headers' needs a 'Name'.");
            headers.Add(new MessageHeader(h.Name, h.Value ?? ""));
        }
        var attachments = new List<MessageAttachment>();
        foreach (var a in r.Attachments ?? [])
        {
            if (a is null || string.IsNullOrWhiteSpace(a.Name))
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "Each attachment needs a 'Name'.");
            var ext = Path.GetExtension(a.Name).TrimStart('.');
            if (ForbiddenExtensions.Contains(ext))
                throw new MailroomException(PostmarkErrors.ForbiddenAttachmentType, $"Attachment '{a.Name}' is of a forbidden type ('.{ext}').");
            if (a.Content is null)
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Attachment '{a.Name}' has no 'Content'.");
            size += a.Content.Length;
            if (size > MaxMessageBytes)
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The message is larger than 10 MB.");
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(a.Content);
            }
            catch (FormatException)
            {
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Attachment '{a.Name}' has 'Content' that is not valid base64.");
            }
            var cid = string.IsNullOrWhiteSpace(a.ContentID) ? null : a.ContentID.Trim();
            if (cid is not null && cid.StartsWith("cid:", StringComparison.OrdinalIgnoreCase))
                cid = cid[4..];
            attachments.Add(new MessageAttachment(a.Name, bytes, string.IsNullOrWhiteSpace(a.ContentType) ? null : a.ContentType, cid));
        }
        if (size > MaxMessageBytes)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The message is larger than 10 MB.");
        return new Content(tag, metadata, headers, attachments);
    }

    /// <summary>Step: the MIME message as accepted (not yet encoded for transport: Preparation does that, once, before
    /// signing).</summary>
    private byte[] Compose(EmailRequest r, Addresses addresses, Content content, Guid id, DateTimeOffset now, CancellationToken ct)
    {
        MimeMessage mime;
        try
        {
            mime = composer.Compose(new OutboundMessageSpec
            {
                From = addresses.From,
                To = addresses.To,
                Cc = addresses.Cc,
                Bcc = addresses.Bcc,
                ReplyTo = addresses.ReplyTo,
                Subject = r.Subject,
                TextBody = r.TextBody,
                HtmlBody = r.HtmlBody,
                Headers = content.Headers,
                Attachments = content.Attachments,
                MessageId = id,
                Date = now,
            }, prepareForTransport: false);
        }
        catch (CompositionException e)
        {
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, e.Message);
        }
        using var bytes = new MemoryStream();
        mime.WriteTo(FormatOptions.Default, bytes, ct);
        return bytes.ToArray();
    }

    private static IReadOnlyList<NamedAddress> ParseList(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
            return [];
        if (!AddressListParser.TryParse(value, field, out var list, out var error))
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, error.Message);
        return list;
    }
}
