using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Mailroom.Core.Delivery;

/// <summary>
/// One recipient's copy of a message to hand to a remote server. <paramref name="Mime"/> is the stored signed message:
/// many items (one per recipient, on several connections at once) share the one array, which nobody writes; every
/// send reads it through its own stream and its own parsed message.
/// </summary>
public sealed record DeliveryItem(long DeliveryId, string Recipient, string EnvelopeFrom, byte[] Mime);

public enum OutcomeKind { Delivered, Transient, Permanent }

/// <summary>What happened to one <see cref="DeliveryItem"/>.</summary>
public sealed record DeliveryOutcome(long DeliveryId, OutcomeKind Kind, int? SmtpCode, string Reply, string Host, string Ip,
    string? TlsProtocol, bool? TlsCertificateValid);

/// <summary>
/// The SMTP client side of delivery (RFC 5321), on MailKit. Connects to a destination's hosts in preference
/// order, uses STARTTLS whenever offered (RFC 3207; an invalid certificate is still used, as opportunistic TLS
/// allows, and recorded), and sends several messages over one connection. A 2xx reply delivers, 4xx and
/// connection failures are transient, 5xx permanent.
/// <para>What goes on the wire is the stored signed message byte for byte: each send parses only the header block of
/// its own <see cref="StoredMessage"/> (the body is the stored slice, written as it is) and
/// <see cref="StoredMessageClient"/> keeps MailKit from re-encoding it. Preparation already encoded it for a 7-bit
/// transport before signing, so it suits any server, and a changed byte would break the DKIM signature.</para>
/// </summary>
public sealed class SmtpDeliverer(DeliveryOptions options)
{
    /// <summary>Sends <paramref name="items"/> in order over one connection at a time (this call is one lane) and hands
    /// each outcome to <paramref name="report"/> as soon as it is known, so an exception later in the lane loses none.</summary>
    public async Task DeliverAsync(IReadOnlyList<MxHost> hosts, IReadOnlyList<DeliveryItem> items, Action<DeliveryOutcome> report, CancellationToken ct)
    {
        var remaining = new Queue<DeliveryItem>(items);
        string lastError = "No host to connect to";
        string lastHost = "", lastIp = "";
        foreach (var host in hosts)
        {
            foreach (var ip in host.Addresses)
            {
                if (remaining.Count == 0)
                    return;
                lastHost = host.Name;
                lastIp = ip.ToString();
                var session = await OpenAsync(host.Name, ip, ct);
                if (session.Error is not null)
                {
                    lastError = session.Error;
                    continue;
                }
                using var client = session.Client!;
                var sent = 0;
                while (remaining.Count > 0 && sent < options.MaxMessagesPerConnection)
                {
                    var item = remaining.Peek();
                    var outcome = await SendOneAsync(client, item, host.Name, lastIp, session, ct);
                    if (outcome is null)
                    {
                        // The connection broke: this item and the rest go to the next address or host.
                        lastError = "Connection lost during the SMTP transaction";
                        break;
                    }
                    remaining.Dequeue();
                    report(outcome);
                    sent++;
                }
                if (client.IsConnected)
                {
                    try { await client.DisconnectAsync(quit: true, ct); } catch (Exception e) when (e is not OperationCanceledException) { }
                }
                if (remaining.Count > 0 && sent >= options.MaxMessagesPerConnection)
                {
                    // More to send than one connection carries: reconnect to the same host.
                    await DeliverAsync([host with { Addresses = [ip] }], [.. remaining], report, ct);
                    return;
                }
            }
        }
        foreach (var item in remaining)
            report(new DeliveryOutcome(item.DeliveryId, OutcomeKind.Transient, null, lastError, lastHost, lastIp, null, null));
    }

    private sealed record Session(StoredMessageClient? Client, string? Error, string? Tls, bool? CertificateValid);

    private async Task<Session> OpenAsync(string hostName, IPAddress ip, CancellationToken ct)
    {
        var certificateValid = (bool?)null;
        var client = new StoredMessageClient
        {
            LocalDomain = options.HeloName,
            Timeout = (int)options.CommandTimeout.TotalMilliseconds,
            CheckCertificateRevocation = false,
            ServerCertificateValidationCallback = (_, _, _, errors) =>
            {
                certificateValid = errors == SslPolicyErrors.None;
                return true;
            },
        };
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                connectTimeout.CancelAfter(options.ConnectTimeout);
                await socket.ConnectAsync(new IPEndPoint(ip, options.Relay?.Port ?? options.Port), connectTimeout.Token);
            }
            await client.ConnectAsync(socket, hostName, options.Relay?.Port ?? options.Port, SecureSocketOptions.StartTlsWhenAvailable, ct);
            if (options.Relay is { Username: { } user, Password: { } password })
                await client.AuthenticateAsync(user, password, ct);
            return new Session(client, null, client.IsSecure ? client.SslProtocol.ToString() : null, client.IsSecure ? certificateValid : null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            client.Dispose();
            socket.Dispose();
            var reason = e switch
            {
                OperationCanceledException => $"Connection to {hostName} [{ip}] timed out",
                SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
                _ => $"Connection to {hostName} [{ip}] failed: {e.Message}",
            };
            return new Session(null, reason, null, null);
        }
    }

    /// <summary>Sends one item; null when the connection is no longer usable and nothing is known of the item.</summary>
    private static async Task<DeliveryOutcome?> SendOneAsync(StoredMessageClient client, DeliveryItem item, string host, string ip, Session session, CancellationToken ct)
    {
        MimeMessage message;
        try
        {
            // The stored bytes as they are: only the header block is parsed (MailKit needs a MimeMessage), the body goes
            // out as the stored slice (StoredBody). Each send has its own reader of the shared array.
            message = StoredMessage.Load(item.Mime, ct);
        }
        catch (FormatException e)
        {
            return new DeliveryOutcome(item.DeliveryId, OutcomeKind.Permanent, null, "The stored message cannot be parsed: " + e.Message, host, ip, session.Tls, session.CertificateValid);
        }
        try
        {
            var reply = await client.SendAsync(FormatOptions.Default, message,
                MailboxAddress.Parse(item.EnvelopeFrom), [MailboxAddress.Parse(item.Recipient)], ct);
            return new DeliveryOutcome(item.DeliveryId, OutcomeKind.Delivered, 250, "250 " + reply, host, ip, session.Tls, session.CertificateValid);
        }
        catch (SmtpCommandException e)
        {
            var code = (int)e.StatusCode;
            var kind = code >= 500 ? OutcomeKind.Permanent : OutcomeKind.Transient;
            return new DeliveryOutcome(item.DeliveryId, kind, code, $"{code} {e.Message}".Trim(), host, ip, session.Tls, session.CertificateValid);
        }
        catch (Exception e) when (e is SmtpProtocolException or IOException or SocketException or ServiceNotConnectedException or TimeoutException
                                     || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }
}

/// <summary>
/// MailKit's client, made to send a stored message as it is. MailKit prepares a message for the server's capabilities
/// (<see cref="MimeMessage.Prepare(EncodingConstraint, int)"/>, which may change transfer encodings) unless it carries a
/// DKIM signature; a stored message is already prepared for a 7-bit transport by Preparation (signed or not), so any
/// change would only make the wire differ from what was stored (and signed).
/// </summary>
internal sealed class StoredMessageClient : SmtpClient
{
    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        // Headers are written as stored: no reformatting to the SMTPUTF8 form (RFC 6531).
        options.International = false;
    }

    /// <summary>The SIZE parameter (RFC 1870 §3): the stored message's length, which is what goes out (before
    /// dot-stuffing, which SIZE does not count), instead of MailKit writing the whole message once more to measure it.</summary>
    protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        StoredMessage.Length(message) ?? base.GetSize(options, message, cancellationToken);
}

/// <summary>
/// A stored wire-form message as a <see cref="MimeMessage"/> MailKit can send, without parsing or re-serializing its
/// body: the header block is parsed (its fields keep their raw bytes, so they are written back as stored) and the body
/// is a <see cref="StoredBody"/> that writes the stored bytes after the empty line as they are. MailKit's DATA filter
/// still does the dot-stuffing (RFC 5321 §4.5.2) on the way out.
/// </summary>
internal static class StoredMessage
{
    public static MimeMessage Load(byte[] mime, CancellationToken ct)
    {
        var separator = mime.AsSpan().IndexOf("\r\n\r\n"u8);
        if (separator < 0 || separator == 0)
            return MimeMessage.Load(new MemoryStream(mime, writable: false), persistent: true, ct); // no body: nothing to spare
        var bodyStart = separator + 4;
        var headers = HeaderList.Load(ParserOptions.Default, new MemoryStream(mime, 0, bodyStart, writable: false), ct);
        // MimeMessage(HeaderList) keeps every field, Content-* ones included, in stored order; it writes them, then the
        // empty line, then the body entity's content.
        return new MimeMessage(headers) { Body = new StoredBody(mime, bodyStart) };
    }

    /// <summary>The length of what <paramref name="message"/> writes, when it is a stored message.</summary>
    public static long? Length(MimeMessage message) => message.Body is StoredBody body ? body.Mime.Length : null;
}

/// <summary>The body of a <see cref="StoredMessage"/>: the stored bytes from the body's start, written as they are. It has
/// no header fields of its own (the message's fields are all in the message's header list).</summary>
internal sealed class StoredBody : MimeEntity
{
    public StoredBody(byte[] mime, int bodyStart) : base(new ContentType("application", "octet-stream"))
    {
        Mime = mime;
        BodyStart = bodyStart;
        Headers.Clear(); // the Content-Type the base constructor adds is not the message's: the stored fields are
    }

    public byte[] Mime { get; }

    public int BodyStart { get; }

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        // Already prepared for a 7-bit transport and signed by Preparation: nothing may change.
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        stream.Write(Mime, BodyStart, Mime.Length - BodyStart);
    }

    public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) =>
        stream.WriteAsync(Mime, BodyStart, Mime.Length - BodyStart, cancellationToken);
}
