using MimeKit;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// Signs outgoing messages with DKIM (RFC 6376): rsa-sha256, relaxed/relaxed, the fixed header set
/// <see cref="SignedHeaderNames"/> (those present) with From oversigned.
/// </summary>
public static class DkimSigning
{
    /// <summary>
    /// Header fields signed when present, in <c>h=</c> order (RFC 6376 §5.4). List-Unsubscribe and
    /// List-Unsubscribe-Post must both be covered for one-click unsubscribe (RFC 8058 §4).
    /// </summary>
    public static IReadOnlyList<string> SignedHeaderNames { get; } =
    [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "Reply-To", "MIME-Version", "Content-Type",
        "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    ];

    /// <summary>
    /// Signs <paramref name="message"/> in place with the key from <see cref="DkimKeyCache.Shared"/>,
    /// inserting a DKIM-Signature header at the top. <paramref name="signingTime"/> becomes <c>t=</c>.
    /// Throws <see cref="ArgumentException"/> for an unusable key (see <see cref="DkimSigningKey.Load"/>).
    /// </summary>
    public static void Sign(MimeMessage message, DkimKey key, DateTimeOffset signingTime) =>
        Sign(message, DkimKeyCache.Shared.Get(key), signingTime);

    /// <summary>Signs <paramref name="message"/> in place with an already loaded key. Thread-safe for distinct messages.</summary>
    /// <remarks>
    /// The message is first prepared for a 7-bit transport (<c>Prepare(EncodingConstraint.SevenBit)</c>):
    /// every part gets a quoted-printable or base64 transfer encoding and lines of at most 78 characters
    /// (RFC 2045 §6, RFC 5322 §2.1.1), so no relay needs to re-encode the body after signing, which would
    /// break the body hash (RFC 6376 §5.3). Write the signed message with CRLF line endings
    /// (see <see cref="Composition.WireFormat"/>) and do not change its signed headers afterwards.
    /// </remarks>
    public static void Sign(MimeMessage message, DkimSigningKey key, DateTimeOffset signingTime)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(key);
        if (message.From.Count == 0)
            throw new ArgumentException("A message without a From header cannot be DKIM signed (RFC 6376 §5.4: From MUST be signed).", nameof(message));

        message.Prepare(EncodingConstraint.SevenBit);
        var field = DkimWireSigner.CreateSignatureField(Composition.WireFormat.ToBytes(message), key, signingTime);
        if (!Header.TryParse(field, 0, field.Length - 2, out var header))
            throw new InvalidOperationException("The DKIM-Signature field made could not be read back.");
        message.Headers.Insert(0, header);
    }

    /// <summary>
    /// Prepares <paramref name="message"/> for a 7-bit transport, writes its wire form (CRLF) and returns it signed: the
    /// <c>DKIM-Signature</c> field on top of those bytes. The cheap way when the bytes are what is wanted (Preparation):
    /// the body is canonicalized and hashed once from the written bytes (<see cref="DkimWireSigner"/>), the message is
    /// written once. <paramref name="message"/> itself gets no signature field.
    /// </summary>
    public static byte[] SignToWire(MimeMessage message, DkimSigningKey key, DateTimeOffset signingTime, int sizeHint = 0)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(key);
        if (message.From.Count == 0)
            throw new ArgumentException("A message without a From header cannot be DKIM signed (RFC 6376 §5.4: From MUST be signed).", nameof(message));
        message.Prepare(EncodingConstraint.SevenBit);
        using var output = new MemoryStream(sizeHint > 0 ? sizeHint + 1024 : 8192);
        // CRLF, but no line end added after a body that has none: what Preparation always stored (the SMTP client adds
        // the CRLF before the final dot, RFC 5321 §4.1.1.4). The relaxed body hash is the same either way (§3.4.4).
        message.WriteTo(StoredForm, output);
        return DkimWireSigner.Sign(output.GetBuffer().AsSpan(0, (int)output.Length), key, signingTime);
    }

    static readonly FormatOptions StoredForm = new() { NewLineFormat = NewLineFormat.Dos };

    /// <inheritdoc cref="SignToWire(MimeMessage, DkimSigningKey, DateTimeOffset, int)"/>
    public static byte[] SignToWire(MimeMessage message, DkimKey key, DateTimeOffset signingTime, int sizeHint = 0) =>
        SignToWire(message, DkimKeyCache.Shared.Get(key), signingTime, sizeHint);

    /// <summary>
    /// Instances of one field signed at most. MimeKit's signer finds each <c>h=</c> entry by scanning the header
    /// list, so a submitted message with tens of thousands of repeated To or Content-Type fields cost minutes of CPU
    /// (quadratic) in Preparation. Signing only the last instances is valid DKIM: a name listed k times covers the
    /// bottom k instances (RFC 6376 §5.4.2).
    /// </summary>
    public const int MaxInstancesPerField = 10;

    /// <summary>
    /// The <c>h=</c> list for <paramref name="message"/>: each of <see cref="SignedHeaderNames"/> once per
    /// occurrence (at most <see cref="MaxInstancesPerField"/>), then From once more. That extra, absent instance is
    /// "oversigning" (RFC 6376 §5.4.2, §8.15): a verifier hashes it as empty, so a From header added after signing
    /// breaks the signature.
    /// </summary>
    public static IList<string> HeadersToSign(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var names = new List<string>(SignedHeaderNames.Count + 2);
        foreach (var name in SignedHeaderNames)
        {
            // MimeKit keeps the top-level Content-* fields on the body entity (RFC 2045 §3).
            var headers = name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) ? message.Body?.Headers : message.Headers;
            if (headers is null)
                continue;
            var count = 0;
            foreach (var header in headers)
                if (header.Field.Equals(name, StringComparison.OrdinalIgnoreCase) && count++ < MaxInstancesPerField)
                    names.Add(name);
        }
        names.Add("From");
        return names;
    }
}
