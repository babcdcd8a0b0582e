using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;

namespace Mailroom.Mail.Tracking;

/// <summary>What a tracking URL names: an open pixel or a link of one recipient's copy of a message.</summary>
public enum TrackingKind : byte { Open = 1, Click = 2 }

/// <summary>
/// A decoded, verified tracking token. <paramref name="LinkIndex"/> is the position of the link in the message's link
/// table (<see cref="LinkTable"/>), 0 for an open.
/// </summary>
public readonly record struct TrackingToken(TrackingKind Kind, Guid MessageId, int RecipientIndex, int LinkIndex);

/// <summary>
/// Signs and checks the tokens in tracking URLs. A token is base64url (RFC 4648 §5, no padding) of
/// <c>version(1) kind(1) message-id(16) recipient-index(4, big-endian) link-index(2) mac(12)</c>, where the MAC is the
/// first 96 bits of HMAC-SHA256 (RFC 2104) over the bytes before it, keyed with a platform secret. It names a link by
/// its index, never by its URL: the redirect goes only to a URL that was in the message (stored with it), so a token
/// cannot be turned into an open redirect, and an altered index or id fails the MAC. 48 characters in all.
/// </summary>
public sealed class TrackingTokenSigner
{
    private const byte Version = 1;
    private const int PayloadLength = 1 + 1 + 16 + 4 + 2;
    private const int MacLength = 12;
    private const int TokenLength = PayloadLength + MacLength;

    private readonly byte[] _current;
    private readonly IReadOnlyList<byte[]> _previous;

    /// <param name="current">The key new tokens are signed with.</param>
    /// <param name="previous">Keys still accepted (after a key change, links in mail already sent keep working).</param>
    public TrackingTokenSigner(byte[] current, IReadOnlyList<byte[]>? previous = null)
    {
        if (current.Length < 16)
            throw new ArgumentException("A tracking key has at least 128 bits.", nameof(current));
        _current = current;
        _previous = previous ?? [];
    }

    public string Open(Guid messageId, int recipientIndex) => Encode(new TrackingToken(TrackingKind.Open, messageId, recipientIndex, 0));

    public string Click(Guid messageId, int recipientIndex, int linkIndex) => Encode(new TrackingToken(TrackingKind.Click, messageId, recipientIndex, linkIndex));

    public string Encode(TrackingToken token)
    {
        if (token.RecipientIndex < 0)
            throw new ArgumentOutOfRangeException(nameof(token), "The recipient index is negative.");
        if (token.LinkIndex is < 0 or > ushort.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(token), "The link index is out of range.");
        Span<byte> bytes = stackalloc byte[TokenLength];
        bytes[0] = Version;
        bytes[1] = (byte)token.Kind;
        token.MessageId.TryWriteBytes(bytes[2..18]);
        BinaryPrimitives.WriteInt32BigEndian(bytes[18..22], token.RecipientIndex);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[22..24], (ushort)token.LinkIndex);
        Mac(_current, bytes[..PayloadLength], bytes[PayloadLength..]);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>True when <paramref name="text"/> is a token of the expected kind signed with a known key.</summary>
    public bool TryVerify(string? text, TrackingKind expected, out TrackingToken token)
    {
        token = default;
        if (text is null || text.Length != 48)
            return false;
        // Base64Url.TryDecodeFromChars throws (rather than answering false) on a character outside the alphabet.
        foreach (var c in text)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                return false;
        Span<byte> bytes = stackalloc byte[TokenLength + 2];
        if (!Base64Url.TryDecodeFromChars(text, bytes, out var written) || written != TokenLength)
            return false;
        bytes = bytes[..TokenLength];
        if (bytes[0] != Version || bytes[1] != (byte)expected)
            return false;
        Span<byte> mac = stackalloc byte[32];
        var ok = false;
        // Every key is tried (no early exit), and each comparison is fixed-time: the time taken must not tell how many
        // leading bytes of a guess were right. The keyed HMAC states are kept per thread (see Macs).
        foreach (var hmac in Macs())
        {
            hmac.AppendData(bytes[..PayloadLength]);
            hmac.GetHashAndReset(mac);
            ok |= CryptographicOperations.FixedTimeEquals(mac[..MacLength], bytes[PayloadLength..]);
        }
        if (!ok)
            return false;
        var recipient = BinaryPrimitives.ReadInt32BigEndian(bytes[18..22]);
        if (recipient < 0)
            return false;
        token = new TrackingToken(expected, new Guid(bytes[2..18]), recipient, BinaryPrimitives.ReadUInt16BigEndian(bytes[22..24]));
        return true;
    }

    /// <summary>This thread's HMAC states keyed with the current key then the previous ones. Each image fetch verifies a
    /// token; a one-shot HMAC sets its key up (two hash blocks, a native context) every time, a kept state only resets.</summary>
    [ThreadStatic]
    private static (TrackingTokenSigner Owner, IncrementalHash[] Macs)? t_macs;

    private IncrementalHash[] Macs()
    {
        if (t_macs is { } kept && ReferenceEquals(kept.Owner, this))
            return kept.Macs;
        if (t_macs is { } other)
            foreach (var h in other.Macs)
                h.Dispose();
        var macs = _previous.Prepend(_current).Select(k => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, k)).ToArray();
        t_macs = (this, macs);
        return macs;
    }

    private static void Mac(byte[] key, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> full = stackalloc byte[32];
        HMACSHA256.HashData(key, payload, full);
        full[..MacLength].CopyTo(destination);
    }
}
