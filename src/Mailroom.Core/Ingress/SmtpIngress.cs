using System.Globalization;
using Mailroom.Core.Accounts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Utils;

namespace Mailroom.Core.Ingress;

/// <summary>
/// An SMTP reply: code (RFC 5321 §4.2), enhanced status code (RFC 3463, e.g. <c>5.7.1</c>) and text.
/// </summary>
public readonly record struct SmtpReply(int Code, string Status, string Text)
{
    public bool IsPositive => Code is >= 200 and < 400;
    public override string ToString() => $"{Code} {Status} {Text}";
}

/// <summary>
/// Who an AUTH exchange authenticated: a server, and the stream when the credential names one. The server's settings
/// and its senders' authorization are read per message through the node's <see cref="Storage.SettingsCache"/>.
/// </summary>
public sealed record SmtpSubmitter(ServerIdentity Server, string? Stream);

/// <summary>The outcome of AUTH: a submitter, or the reply that refuses (and whether it was a wrong credential,
/// which counts toward the address's throttle).</summary>
public sealed record SmtpLogin(SmtpSubmitter? Submitter, SmtpReply Reply, bool BadCredentials = false);

/// <summary>
/// Facts of the session that the trace field records (RFC 5321 §4.4): the client's EHLO name and address, our name,
/// whether the session is encrypted, and whether MAIL FROM carried SMTPUTF8 (RFC 6531 §3.4), which also decides
/// whether the message may hold 8-bit header text or non-ASCII addresses.
/// </summary>
public sealed record SmtpTrace(string ClientName, string ClientAddress, string ServerName, bool Tls, bool SmtpUtf8 = false);

/// <summary>The outcome of one message: the reply to its DATA, and the MessageID when accepted.</summary>
public sealed record SmtpSubmission(SmtpReply Reply, Guid? MessageId);

/// <summary>
/// SMTP submission's policy (spec §12.2): who may submit (AUTH with a server API token as user name and password,
/// RFC 4954), and what becomes of a submitted message. The SMTP protocol itself is the listener's
/// (<c>Mailroom/Smtp</c>); this class never sees a socket. A message goes through these steps, any of which may
/// refuse it with a permanent reply, in the Email API's order:
/// <list type="number">
/// <item><c>Parse</c>: the header section as octets against <see cref="HeaderRules.CheckSubmitted"/> (control
/// characters, bare CR or LF, lines over 998 octets: 554 5.6.0; 8-bit text or a non-ASCII recipient without SMTPUTF8:
/// 550 5.6.7), then the message (RFC 5322); the <c>X-PM-*</c> control headers are taken out, and every other field
/// goes through the SMTP column of <see cref="HeaderRules.Table"/>, the rule set the Email API applies to its
/// <c>Headers</c>: Return-Path, DKIM-Signature, ARC-*, Authentication-Results, Received-SPF, Delivered-To and Bcc
/// are removed, Sender refuses the message (554 5.6.0, the API's words).</item>
/// <item><c>Stream</c>: <c>X-PM-Message-Stream</c>, else <c>outbound</c> (unknown, archived or inbound: 550 5.7.1).</item>
/// <item><c>Sender</c>: exactly one From mailbox (550 5.1.7).</item>
/// <item><c>Fields</c>: tag, metadata and tracking from their headers, with the Email API's limits (554 5.6.0).</item>
/// <item><c>Authorize</c> the From address exactly as the Email API does (550 5.7.1 with Postmark's text).</item>
/// <item><c>Recipients</c>: the envelope (RCPT TO), without the stream's inactive ones; none left: 550 5.1.1.</item>
/// <item><c>Rewrite</c>: trace field, Message-ID (ours unless <c>X-PM-KeepID: true</c>), Date if absent; with
/// SMTPUTF8, 8-bit text becomes RFC 2047 encoded-words where that loses nothing (unstructured fields, display names
/// of ASCII addresses), as the Email API writes it; the body as submitted.</item>
/// <item><c>Queue</c>: one durable group commit with the API's messages, before the 250 reply.</item>
/// </list>
/// </summary>
public sealed class SmtpIngress(AccountService accounts, SmtpTokenService smtpTokens, MailroomDb db, OutboundAdmission admission,
    MessageComposerOptions messageIds, TimeProvider clock, ILogger<SmtpIngress> log)
{
    /// <summary>Control headers (spec §12.2); every <c>X-PM-</c> field is removed before delivery, known or not.</summary>
    public const string ControlPrefix = "X-PM-";

    private static readonly SmtpReply WrongCredentials = new(535, "5.7.8", "Authentication credentials invalid: use a server API token as both user name and password, or a stream's SMTP token.");

    /// <summary>
    /// Checks AUTH credentials (RFC 4954; PLAIN RFC 4616, LOGIN). Postmark's two forms: the server API token as
    /// both user name and password (the stream then comes from <c>X-PM-Message-Stream</c>), or a per-stream SMTP
    /// token, access key as user name and secret key as password (the stream is the token's). An account token is
    /// refused with a hint. A server with <c>SmtpApiActivated</c> off refuses SMTP entirely.
    /// </summary>
    public async Task<SmtpLogin> AuthenticateAsync(string? user, string? password, CancellationToken ct)
    {
        user = user?.Trim() ?? "";
        password = password?.Trim() ?? "";
        if (user.Length is 0 or > 200 || password.Length is 0 or > 200)
            return new SmtpLogin(null, WrongCredentials, true);
        ServerIdentity? server;
        string? stream = null;
        if (string.Equals(user, password, StringComparison.Ordinal))
        {
            server = await accounts.FindServerByTokenAsync(user, ct);
            if (server is null && await accounts.FindAccountByTokenAsync(user, ct) is not null)
                return new SmtpLogin(null, WrongCredentials with { Text = "Authentication credentials invalid: this is an account token; SMTP takes a server API token." }, true);
        }
        else
        {
            var token = await smtpTokens.FindAsync(user, password, ct);
            (server, stream) = token is { } t ? (t.Server, t.Stream) : (null, null);
        }
        if (server is null)
            return new SmtpLogin(null, WrongCredentials, true);
        var activated = await db.Servers.AsNoTracking().Where(s => s.Id == server.ServerId).Select(s => s.SmtpApiActivated).FirstOrDefaultAsync(ct);
        if (!activated)
            return new SmtpLogin(null, new SmtpReply(535, "5.7.8", "SMTP is turned off for this server: set SmtpApiActivated to true in the server's settings to send over SMTP."));
        return new SmtpLogin(new SmtpSubmitter(server, stream), new SmtpReply(235, "2.7.0", "Authentication successful"));
    }

    /// <summary>
    /// Accepts one submitted message for <paramref name="recipients"/> (the RCPT TO addresses) or refuses it.
    /// Returns only after the message is durable when the reply is positive.
    /// </summary>
    public async Task<SmtpSubmission> SubmitAsync(SmtpSubmitter submitter, IReadOnlyList<string> recipients, byte[] data, SmtpTrace trace, CancellationToken ct)
    {
        try
        {
            var queued = await AdmitAsync(submitter, recipients, data, trace, ct);
            // Step Recipients, continued: the stream's inactive recipients are left out (in the group commit); 406 if none is left.
            if ((await admission.EnqueueActiveAsync([queued], ct))[0] is { } refused)
                throw refused;
            return new SmtpSubmission(new SmtpReply(250, "2.0.0", $"Ok: queued as {queued.Message.Id}"), queued.Message.Id);
        }
        catch (SmtpRefusal e)
        {
            return new SmtpSubmission(e.Reply, null);
        }
        catch (MailroomException e)
        {
            return new SmtpSubmission(Reply(e), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "SMTP submission from {Client} failed", trace.ClientAddress);
            return new SmtpSubmission(new SmtpReply(451, "4.3.0", "Temporary failure while queueing the message; try again."), null);
        }
    }

    /// <summary>Postmark's error code → the SMTP reply after DATA (RFC 5321 §4.2.5, RFC 3463).</summary>
    public static SmtpReply Reply(MailroomException e) => e.ErrorCode switch
    {
        PostmarkErrors.SenderSignatureNotFound or PostmarkErrors.SenderSignatureNotConfirmed => new SmtpReply(550, "5.7.1", e.Message),  // sender not allowed: delivery not authorized
        PostmarkErrors.InactiveRecipient => new SmtpReply(550, "5.1.1", e.Message),  // every recipient inactive on the stream
        PostmarkErrors.MessageStreamNotFound or PostmarkErrors.MessageStreamCannotSend => new SmtpReply(550, "5.7.1", e.Message),  // no such sending stream
        PostmarkErrors.InvalidToken => new SmtpReply(554, "5.7.0", e.Message),  // the server went away since AUTH
        PostmarkErrors.InvalidEmailRequest => new SmtpReply(554, "5.6.0", e.Message),  // a field the API would refuse
        _ => new SmtpReply(554, "5.0.0", e.Message),
    };

    /// <summary>
    /// The admission checklist; each step may stop the message with its refusal:
    /// Parse → Server → Stream → Sender → Fields → Authorize → Recipients → Rewrite.
    /// </summary>
    private async Task<QueuedMessage> AdmitAsync(SmtpSubmitter submitter,
        IReadOnlyList<string> recipients, byte[] data, SmtpTrace trace, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var id = OutboundMessage.NewId(now);
        var (mime, control) = Parse(data, recipients, trace, ct);
        var server = await LoadServerAsync(submitter, ct);
        var stream = ChooseStream(server, submitter, control);
        var from = ReadSender(mime);
        var fields = CheckFields(server, control);
        await admission.AuthorizeSenderAsync(server, from.Address, ct); // the same sender-identity check as the Email API (spec §5.3)
        var (envelope, to, cc, bcc) = SortRecipients(mime, recipients);
        Rewrite(mime, control, trace, id, now);

        var admitted = new AdmittedMessage
        {
            Id = id,
            Stream = stream,
            From = from,
            To = to,
            Cc = cc,
            Bcc = bcc,
            Subject = mime.Subject ?? "",
            Tag = fields.Tag,
            Metadata = fields.Metadata,
            AttachmentNames = mime.Attachments.Select(a => a.ContentDisposition?.FileName ?? a.ContentType.Name ?? "").ToList(),
            TrackOpens = OutboundAdmission.TrackOpens(server, fields.TrackOpens),
            TrackLinks = fields.TrackLinks,
            Mime = WireFormat.ToBytes(mime),
            ReceivedAt = now,
        };
        return OutboundAdmission.ToQueued(server, admitted, envelope);
    }

    /// <summary>Step Parse: the octets first, since a parser would tidy away what must be refused (a NUL, a bare LF);
    /// then the message, whose control headers are taken out and header rules applied.</summary>
    private static (MimeMessage Mime, ControlHeaders Control) Parse(byte[] data, IReadOnlyList<string> recipients, SmtpTrace trace, CancellationToken ct)
    {
        if (HeaderRules.CheckSubmitted(data, trace.SmtpUtf8) is { } fault)
            throw new SmtpRefusal(fault.Kind == HeaderFaultKind.EightBit
                ? new SmtpReply(550, "5.6.7", fault.Message)   // RFC 6531 §3.6: non-ASCII not permitted without SMTPUTF8
                : new SmtpReply(554, "5.6.0", fault.Message));
        if (!trace.SmtpUtf8 && recipients.FirstOrDefault(r => !System.Text.Ascii.IsValid(r)) is { } international)
            throw new SmtpRefusal(new SmtpReply(550, "5.6.7", $"The recipient '{international}' is a non-ASCII address, which needs SMTPUTF8 on MAIL FROM (RFC 6531 section 3.4)."));
        MimeMessage mime;
        try
        {
            // Persistent: the parts' content stays a window on data (which outlives the message) rather than a copy
            // of it; the body is written back out as submitted anyway (step Rewrite).
            mime = MimeMessage.Load(ParserOptions.Default, new MemoryStream(data, writable: false), persistent: true, ct);
        }
        catch (FormatException e)
        {
            throw new SmtpRefusal(new SmtpReply(554, "5.6.0", "The message could not be parsed: " + e.Message));
        }
        var control = TakeControlHeaders(mime);
        ApplyHeaderRules(mime);
        return (mime, control);
    }

    /// <summary>Step Server: the submitter's server, which must allow SMTP.</summary>
    private async Task<SendingServer> LoadServerAsync(SmtpSubmitter submitter, CancellationToken ct)
    {
        var server = await admission.LoadServerAsync(submitter.Server, ct);
        if (!server.Server.SmtpApiActivated)
            throw new SmtpRefusal(new SmtpReply(550, "5.7.1", "SMTP is turned off for this server: set SmtpApiActivated to true in the server's settings."));
        return server;
    }

    /// <summary>Step Stream: a credential tied to a stream wins over the header.</summary>
    private static string ChooseStream(SendingServer server, SmtpSubmitter submitter, ControlHeaders control) =>
        OutboundAdmission.ResolveStream(server, submitter.Stream ?? control.Stream, submitter.Stream is null ? "X-PM-Message-Stream" : "SMTP token");

    /// <summary>Step Sender: exactly one valid From address.</summary>
    private static NamedAddress ReadSender(MimeMessage mime)
    {
        var fromBoxes = mime.From.Mailboxes.ToList();
        if (fromBoxes.Count != 1 || !EmailAddress.IsValid(fromBoxes[0].Address))
            throw new SmtpRefusal(new SmtpReply(550, "5.1.7", $"Invalid 'From' address: '{mime.Headers[HeaderId.From]?.Trim() ?? ""}'. The From field must hold exactly one valid address."));
        return new NamedAddress(NameOf(fromBoxes[0]), fromBoxes[0].Address);
    }

    private sealed record CheckedFields(string Tag, Dictionary<string, string> Metadata, bool? TrackOpens, LinkTracking TrackLinks);

    /// <summary>Step Fields: the control headers, checked as the Email API checks its fields.</summary>
    private static CheckedFields CheckFields(SendingServer server, ControlHeaders control)
    {
        var tag = OutboundAdmission.CheckTag(control.Tag, "X-PM-Tag");
        var metadata = OutboundAdmission.CheckMetadata(control.Metadata);
        var trackLinks = OutboundAdmission.CheckTrackLinks(server, control.TrackLinks, "X-PM-TrackLinks");
        bool? trackOpens = control.TrackOpens switch
        {
            null => null,
            var v when bool.TryParse(v.Trim(), out var b) => b,
            var v => throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Invalid 'X-PM-TrackOpens': '{v}'. Use true or false."),
        };
        return new CheckedFields(tag, metadata, trackOpens, trackLinks);
    }

    /// <summary>Step Recipients: the envelope decides who receives; To and Cc fields only describe, and envelope
    /// recipients in neither are the message's Bcc.</summary>
    private static (List<string> Envelope, List<NamedAddress> To, List<NamedAddress> Cc, List<NamedAddress> Bcc) SortRecipients(
        MimeMessage mime, IReadOnlyList<string> recipients)
    {
        var envelope = recipients.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        OutboundAdmission.CheckRecipientCount(envelope.Count);
        var to = Addresses(mime.To);
        var cc = Addresses(mime.Cc);
        var shown = new HashSet<string>(to.Concat(cc).Select(a => a.Address), StringComparer.OrdinalIgnoreCase);
        var bcc = envelope.Where(r => !shown.Contains(r)).Select(NamedAddress.Of).ToList();
        return (envelope, to, cc, bcc);
    }

    /// <summary>Step Rewrite: Message-ID (unless kept), Date if missing, the trace field.</summary>
    private void Rewrite(MimeMessage mime, ControlHeaders control, SmtpTrace trace, Guid id, DateTimeOffset now)
    {
        if (trace.SmtpUtf8)
            EncodeEightBitText(mime);
        var keepId = control.KeepId && mime.Headers.Contains(HeaderId.MessageId);
        if (!keepId)
            mime.Headers.Replace(new Header("Message-ID", $"<{id:D}@{messageIds.MessageIdDomain}>"));
        if (!mime.Headers.Contains(HeaderId.Date))
            mime.Headers.Add(new Header(HeaderId.Date, DateUtils.FormatDate(now)));
        mime.Headers.Insert(0, new Header(HeaderId.Received, Received(trace, id, now)));
        // Kept as submitted otherwise (8BITMIME, RFC 6152, may bring 8-bit text): re-encoding here would cost a
        // fifth of the message's CPU for nothing, since Preparation prepares it for a 7-bit path before signing
        // (DkimSigning) and MailKit does when it sends unsigned mail to a server without 8BITMIME.
    }

    /// <summary>The control headers of a message, read and removed.</summary>
    private sealed record ControlHeaders(string? Stream, string? Tag, List<KeyValuePair<string, string?>> Metadata,
        string? TrackOpens, string? TrackLinks, bool KeepId);

    private static ControlHeaders TakeControlHeaders(MimeMessage mime)
    {
        string? stream = null, tag = null, trackOpens = null, trackLinks = null, keepId = null;
        var metadata = new List<KeyValuePair<string, string?>>();
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var control = mime.Headers.Where(h => h.Field.StartsWith(ControlPrefix, StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var header in control)
        {
            mime.Headers.Remove(header);
            var name = header.Field[ControlPrefix.Length..];
            var value = header.Value?.Trim() ?? "";
            if (name.StartsWith("Metadata-", StringComparison.OrdinalIgnoreCase))
            {
                // A repeated key gets a numeric suffix, as Postmark does: color, color1, color2, ...
                var key = name["Metadata-".Length..];
                var unique = key;
                for (var n = 1; !keys.Add(unique); n++)
                    unique = key + n.ToString(CultureInfo.InvariantCulture);
                metadata.Add(new(unique, value));
                continue;
            }
            // The first occurrence of a single-valued header counts. SwiftMailer/Symfony spell the tracking ones
            // with a hyphen (X-PM-Track-Opens); both spellings are read.
            switch (name.ToLowerInvariant())
            {
                case "message-stream": stream ??= value; break;
                case "tag": tag ??= value; break;
                case "trackopens" or "track-opens": trackOpens ??= value; break;
                case "tracklinks" or "track-links": trackLinks ??= value; break;
                case "keepid": keepId ??= value; break;
            }
        }
        return new ControlHeaders(stream, tag, metadata, trackOpens, trackLinks,
            string.Equals(keepId, "true", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The SMTP column of <see cref="HeaderRules.Table"/>, the rule set the Email API applies to its <c>Headers</c>:
    /// fields to remove are removed, a field to refuse refuses the message with the API's words (300: 554 5.6.0).
    /// </summary>
    private static void ApplyHeaderRules(MimeMessage mime)
    {
        for (var i = mime.Headers.Count - 1; i >= 0; i--)
        {
            var field = mime.Headers[i].Field;
            switch (HeaderRules.SmtpUse(field))
            {
                case HeaderUse.Strip:
                    mime.Headers.RemoveAt(i);
                    break;
                case HeaderUse.Refuse:
                    throw new MailroomException(PostmarkErrors.InvalidEmailRequest, HeaderRules.Refusal(field));
            }
        }
    }

    /// <summary>Address fields whose display names may become encoded-words (RFC 2047 §5) when every address is ASCII.</summary>
    private static readonly HashSet<HeaderId> AddressFields =
        [HeaderId.From, HeaderId.To, HeaderId.Cc, HeaderId.ReplyTo, HeaderId.ResentFrom, HeaderId.ResentTo, HeaderId.ResentCc, HeaderId.ResentReplyTo];

    /// <summary>Fields MimeKit writes as unstructured text (RFC 5322 §3.6.5, and any field it does not know).</summary>
    private static readonly HashSet<HeaderId> TextFields = [HeaderId.Subject, HeaderId.Comments, HeaderId.Keywords, HeaderId.Unknown];

    /// <summary>
    /// 8-bit header text (RFC 6532) that can be written as RFC 2047 encoded-words without loss is, so the message
    /// needs SMTPUTF8 on its way out only for what cannot be: a non-ASCII address (RFC 6531 §3.2). That is how the
    /// Email API writes the same text.
    /// </summary>
    private static void EncodeEightBitText(MimeMessage mime)
    {
        foreach (var header in mime.Headers)
        {
            if (System.Text.Ascii.IsValid(header.RawValue))
                continue;
            if (TextFields.Contains(header.Id) ||
                (AddressFields.Contains(header.Id) && InternetAddressList.TryParse(header.Value, out var list) &&
                 list.Mailboxes.All(m => System.Text.Ascii.IsValid(m.Address))))
                header.SetValue(System.Text.Encoding.UTF8, header.Value);
        }
    }

    private static List<NamedAddress> Addresses(InternetAddressList list) =>
        list.Mailboxes.Select(m => new NamedAddress(NameOf(m), m.Address)).ToList();

    private static string? NameOf(MailboxAddress m) => string.IsNullOrWhiteSpace(m.Name) ? null : m.Name.Trim();

    /// <summary>
    /// The trace field every SMTP server adds on accepting a message (RFC 5321 §4.4), with the protocol keyword of
    /// RFC 3848: ESMTPA (authenticated), ESMTPSA (authenticated over TLS); UTF8SMTPA/UTF8SMTPSA with SMTPUTF8.
    /// </summary>
    private static string Received(SmtpTrace trace, Guid id, DateTimeOffset now) =>
        string.Create(CultureInfo.InvariantCulture,
            $"from {Sanitize(trace.ClientName)} ([{Sanitize(trace.ClientAddress)}]) by {Sanitize(trace.ServerName)} (Mailroom) with {Protocol(trace)} id {id:N}; {DateUtils.FormatDate(now)}");

    /// <summary>The "with" keyword (RFC 3848; with SMTPUTF8, RFC 6531 §4.3).</summary>
    private static string Protocol(SmtpTrace trace) => (trace.SmtpUtf8, trace.Tls) switch
    {
        (true, true) => "UTF8SMTPSA",
        (true, false) => "UTF8SMTPA",
        (false, true) => "ESMTPSA",
        (false, false) => "ESMTPA",
    };

    /// <summary>Only what a domain or address literal may hold: the EHLO argument is the client's to choose.</summary>
    private static string Sanitize(string value)
    {
        var clean = new string(value.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '_').Take(255).ToArray());
        return clean.Length == 0 ? "unknown" : clean;
    }

    /// <summary>A refusal worded for SMTP directly (not from a Postmark error code).</summary>
    private sealed class SmtpRefusal(SmtpReply reply) : Exception(reply.Text)
    {
        public SmtpReply Reply { get; } = reply;
    }
}
