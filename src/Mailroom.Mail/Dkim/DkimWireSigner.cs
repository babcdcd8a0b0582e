using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// DKIM signing (RFC 6376, rsa-sha256, relaxed/relaxed) straight over a message's wire form: the CRLF bytes that go on
/// the wire, headers then body. One pass over the body (relaxed canonicalization on spans, RFC 6376 §3.4.4, hashed with
/// the platform SHA-256) and one over the header block (§3.4.2), then one RSA signature; no MIME parse and no
/// re-serialization. <see cref="DkimSigning"/> signs through this.
/// </summary>
/// <remarks>
/// The input must be a complete message in wire form: CRLF line ends (a lone CR or LF is an ordinary byte here, as it
/// is to verifiers, which also split lines at CRLF), a header block ended by an empty line (or no body at all).
/// </remarks>
public static class DkimWireSigner
{
    /// <summary>
    /// Signs <paramref name="wire"/> and returns the whole <c>DKIM-Signature</c> field (CRLF-terminated, folded) to put
    /// on top of it. The <c>h=</c> list is <see cref="DkimSigning.SignedHeaderNames"/> as present in the header block
    /// (each instance, at most <see cref="DkimSigning.MaxInstancesPerField"/> a name) plus From once more (oversigned).
    /// Throws <see cref="ArgumentException"/> when the header block has no From field (RFC 6376 §5.4).
    /// </summary>
    public static byte[] CreateSignatureField(ReadOnlySpan<byte> wire, DkimSigningKey key, DateTimeOffset signingTime)
    {
        ArgumentNullException.ThrowIfNull(key);
        var fields = HeaderFields(wire, out var bodyStart);
        var names = HeadersToSign(wire, fields);
        if (names.Count == 0 || !names.Contains("From"))
            throw new ArgumentException("A message without a From header cannot be DKIM signed (RFC 6376 §5.4: From MUST be signed).", nameof(wire));
        names.Add("From"); // oversigned: a From added later breaks the signature (RFC 6376 §8.15)

        Span<byte> bodyHash = stackalloc byte[SHA256.HashSizeInBytes];
        HashBodyRelaxed(bodyStart < 0 ? [] : wire[bodyStart..], bodyHash);

        // Tag order as MimeKit's DkimSigner writes them (v, a, d, s, c, t, h, bh, b), folded between tags.
        var value = new StringBuilder(512);
        value.Append("v=1; a=rsa-sha256; d=").Append(key.Domain).Append("; s=").Append(key.Selector)
            .Append(";\r\n\tc=relaxed/relaxed; t=").Append(signingTime.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture))
            .Append(";\r\n\th=");
        // h= folded after a colon once a line grows long (FWS is allowed around its colons, RFC 6376 §3.5), so many
        // signed instances never make a line longer than RFC 5322 §2.1.1 allows.
        var lineLength = 3;
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0)
            {
                value.Append(':');
                if (lineLength + names[i].Length > 70)
                {
                    value.Append("\r\n\t ");
                    lineLength = 1;
                }
            }
            value.Append(names[i].ToLowerInvariant()); // as MimeKit writes it; names compare case-insensitively (RFC 6376 §3.5)
            lineLength += names[i].Length + 1;
        }
        value
            .Append(";\r\n\tbh=").Append(Convert.ToBase64String(bodyHash)).Append(";\r\n\tb=");
        var unsigned = Encoding.ASCII.GetBytes("DKIM-Signature: " + value);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            // RFC 6376 §5.4.2: the k-th listing of a name signs its k-th instance counted from the bottom; a listing
            // with no instance left contributes nothing (the null string).
            var used = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            foreach (var name in names)
            {
                used.TryGetValue(name, out var k);
                used[name] = k + 1;
                var seen = 0;
                for (var i = fields.Count - 1; i >= 0; i--)
                {
                    var field = wire.Slice(fields[i].Start, fields[i].Length);
                    if (!NameIs(field, name) || seen++ != k)
                        continue;
                    AppendRelaxedHeader(hash, field, ref scratch, crlf: true);
                    break;
                }
            }
            // §3.7: the signature field itself last, b= empty, without its trailing CRLF.
            AppendRelaxedHeader(hash, unsigned, ref scratch, crlf: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        var signature = Convert.ToBase64String(key.ThreadRsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        // b= folded into 72-character pieces: whitespace in b= is ignored by verifiers (RFC 6376 §3.5).
        for (var i = 0; i < signature.Length; i += 72)
        {
            if (i > 0)
                value.Append("\r\n\t ");
            value.Append(signature.AsSpan(i, Math.Min(72, signature.Length - i)));
        }
        return Encoding.ASCII.GetBytes("DKIM-Signature: " + value + "\r\n");
    }

    /// <summary>Signs <paramref name="wire"/> and returns the signed message: the signature field, then the bytes as they were.</summary>
    public static byte[] Sign(ReadOnlySpan<byte> wire, DkimSigningKey key, DateTimeOffset signingTime)
    {
        var field = CreateSignatureField(wire, key, signingTime);
        var signed = new byte[field.Length + wire.Length];
        field.CopyTo(signed, 0);
        wire.CopyTo(signed.AsSpan(field.Length));
        return signed;
    }

    /// <summary>The header names to sign, in <c>h=</c> order, without the oversigned From: each of
    /// <see cref="DkimSigning.SignedHeaderNames"/> once per instance in the header block, at most
    /// <see cref="DkimSigning.MaxInstancesPerField"/> times.</summary>
    static List<string> HeadersToSign(ReadOnlySpan<byte> wire, List<(int Start, int Length)> fields)
    {
        var names = new List<string>(DkimSigning.SignedHeaderNames.Count + 2);
        foreach (var name in DkimSigning.SignedHeaderNames)
        {
            var count = 0;
            foreach (var (start, length) in fields)
                if (NameIs(wire.Slice(start, length), name) && count++ < DkimSigning.MaxInstancesPerField)
                    names.Add(name);
        }
        return names;
    }

    /// <summary>
    /// The header block's fields (each with its continuation lines and final CRLF) and where the body starts (after
    /// the empty line; -1 when there is none). RFC 5322 §2.2.3: a line starting with WSP continues the field before.
    /// </summary>
    static List<(int Start, int Length)> HeaderFields(ReadOnlySpan<byte> wire, out int bodyStart)
    {
        var fields = new List<(int, int)>(24);
        var pos = 0;
        var fieldStart = -1;
        bodyStart = -1;
        while (pos < wire.Length)
        {
            var eol = wire[pos..].IndexOf("\r\n"u8);
            var next = eol < 0 ? wire.Length : pos + eol + 2;
            if (eol == 0)
            {
                bodyStart = next; // the empty line ending the header block (RFC 5322 §2.1)
                break;
            }
            if (wire[pos] is not ((byte)' ' or (byte)'\t'))
            {
                if (fieldStart >= 0)
                    fields.Add((fieldStart, pos - fieldStart));
                fieldStart = pos;
            }
            pos = next;
        }
        if (fieldStart >= 0)
            fields.Add((fieldStart, (bodyStart < 0 ? pos : bodyStart - 2) - fieldStart));
        return fields;
    }

    /// <summary>Whether <paramref name="field"/>'s name is <paramref name="name"/> (ASCII, case-insensitive; WSP before the colon allowed).</summary>
    static bool NameIs(ReadOnlySpan<byte> field, string name)
    {
        if (field.Length <= name.Length)
            return false;
        for (var i = 0; i < name.Length; i++)
            if ((field[i] | 0x20) != (name[i] | 0x20))
                return false;
        var rest = field[name.Length..];
        var colon = rest.IndexOfAnyExcept((byte)' ', (byte)'\t');
        return colon >= 0 && rest[colon] == (byte)':';
    }

    /// <summary>
    /// Relaxed header canonicalization (RFC 6376 §3.4.2): name in lower case, unfolded, runs of WSP to one SP, no WSP
    /// at the end of the value or around the colon; then CRLF when <paramref name="crlf"/>.
    /// </summary>
    static void AppendRelaxedHeader(IncrementalHash hash, ReadOnlySpan<byte> field, ref byte[] scratch, bool crlf)
    {
        if (scratch.Length < field.Length + 2)
        {
            ArrayPool<byte>.Shared.Return(scratch);
            scratch = ArrayPool<byte>.Shared.Rent(field.Length + 2);
        }
        var colon = field.IndexOf((byte)':');
        var n = 0;
        var name = field[..colon].TrimEnd(" \t"u8);
        foreach (var b in name)
            scratch[n++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        scratch[n++] = (byte)':';
        var pendingSpace = false;
        var any = false;
        foreach (var b in field[(colon + 1)..])
        {
            if (b is (byte)'\r' or (byte)'\n')
                continue; // unfold
            if (b is (byte)' ' or (byte)'\t')
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace && any)
                scratch[n++] = (byte)' ';
            pendingSpace = false;
            any = true;
            scratch[n++] = b;
        }
        if (crlf)
        {
            scratch[n++] = (byte)'\r';
            scratch[n++] = (byte)'\n';
        }
        hash.AppendData(scratch, 0, n);
    }

    /// <summary>
    /// The SHA-256 of the relaxed canonical body (RFC 6376 §3.4.4): runs of WSP within a line to one SP, WSP at line ends
    /// removed, empty lines at the end removed, a non-empty body ended by CRLF. Lines already canonical (the common
    /// case) are hashed straight from the input, in runs.
    /// </summary>
    public static void HashBodyRelaxed(ReadOnlySpan<byte> body, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[]? scratch = null;
        var pendingEmpty = 0; // empty lines held back: dropped if nothing but empty lines follows
        var runStart = -1;    // start of a run of canonical lines not yet hashed
        var runEnd = -1;
        var pos = 0;
        try
        {
            while (pos < body.Length)
            {
                var eol = body[pos..].IndexOf("\r\n"u8);
                var lineEnd = eol < 0 ? body.Length : pos + eol;
                var next = eol < 0 ? body.Length : lineEnd + 2;
                var line = body[pos..lineEnd];
                var trimmed = line.TrimEnd(" \t"u8);
                if (trimmed.IsEmpty)
                {
                    Flush(hash, body, ref runStart, runEnd);
                    pendingEmpty++;
                }
                else
                {
                    if (pendingEmpty > 0)
                    {
                        Flush(hash, body, ref runStart, runEnd);
                        for (; pendingEmpty > 0; pendingEmpty--)
                            hash.AppendData("\r\n"u8);
                    }
                    if (eol >= 0 && trimmed.Length == line.Length && IsCanonicalLine(line))
                    {
                        if (runStart < 0)
                            runStart = pos;
                        runEnd = next;
                    }
                    else
                    {
                        Flush(hash, body, ref runStart, runEnd);
                        scratch ??= ArrayPool<byte>.Shared.Rent(Math.Max(1024, trimmed.Length + 2));
                        if (scratch.Length < trimmed.Length + 2)
                        {
                            ArrayPool<byte>.Shared.Return(scratch);
                            scratch = ArrayPool<byte>.Shared.Rent(trimmed.Length + 2);
                        }
                        var n = 0;
                        var space = false;
                        foreach (var b in trimmed)
                        {
                            if (b is (byte)' ' or (byte)'\t')
                            {
                                space = true;
                                continue;
                            }
                            if (space)
                                scratch[n++] = (byte)' ';
                            space = false;
                            scratch[n++] = b;
                        }
                        scratch[n++] = (byte)'\r';
                        scratch[n++] = (byte)'\n';
                        hash.AppendData(scratch, 0, n);
                    }
                }
                pos = next;
            }
            Flush(hash, body, ref runStart, runEnd);
        }
        finally
        {
            if (scratch is not null)
                ArrayPool<byte>.Shared.Return(scratch);
        }
        hash.GetHashAndReset(destination);

        static void Flush(IncrementalHash hash, ReadOnlySpan<byte> body, ref int runStart, int runEnd)
        {
            if (runStart < 0)
                return;
            hash.AppendData(body[runStart..runEnd]);
            runStart = -1;
        }
    }

    /// <summary>No tab and no two spaces in a row (the line's end is already known to carry no WSP).</summary>
    static bool IsCanonicalLine(ReadOnlySpan<byte> line) => !line.Contains((byte)'\t') && line.IndexOf("  "u8) < 0;
}
