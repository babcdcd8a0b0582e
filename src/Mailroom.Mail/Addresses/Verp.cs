using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Mail.Addresses;

/// <summary>A decoded VERP envelope sender: which message and which of its recipients a bounce is about.</summary>
/// <param name="MessageId">The message's id (the GUID of its Message-ID).</param>
/// <param name="RecipientIndex">0-based index into the message's envelope recipients (<c>OutboundMessageSpec.EnvelopeRecipients()</c>).</param>
/// <param name="Domain">The return-path domain the bounce was sent to, lower case.</param>
/// <param name="Mac">The address's MAC as written, lower case; whether it is right is <see cref="VerpSigner.Verify"/>'s question.</param>
public readonly record struct VerpAddress(Guid MessageId, int RecipientIndex, string Domain, string Mac);

/// <summary>
/// Variable envelope return path: each recipient's copy of a message is sent with its own envelope
/// sender (SMTP MAIL FROM, RFC 5321 §3.3, which becomes Return-Path, RFC 5321 §4.4), so a bounce,
/// which goes to that address, names the message and recipient without parsing the DSN.
/// </summary>
/// <remarks>
/// <para>Format: <c>pm_bounces+&lt;id&gt;-&lt;index&gt;-&lt;mac&gt;@&lt;return-path domain&gt;</c>, where <c>&lt;id&gt;</c> is the
/// message GUID as 32 lower-case hex digits (no dashes), <c>&lt;index&gt;</c> the recipient's 0-based position among
/// the message's envelope recipients, in decimal without leading zeros (at most <see cref="MaxRecipientIndex"/>), and
/// <c>&lt;mac&gt;</c> the first 52 bits of HMAC-SHA256 (RFC 2104) over id, index and lower-cased domain, keyed with a
/// platform secret, as 13 lower-case hex digits (<see cref="VerpSigner"/>). Example:
/// <c>pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0-3f9a0c1d2e4b5@pm-bounces.example.com</c>.</para>
/// <para>The local part is at most 11 + 32 + 1 + 6 + 1 + 13 = 64 octets, SMTP's limit (RFC 5321 §4.5.3.1.1), and
/// uses only atext characters, so it needs no quoting (RFC 5321 §4.1.2). Decoding ignores case, since some relays
/// change it; hex is case-insensitive, so the MAC survives that too. An index rather than a hash of the address
/// keeps the local part short and maps to exactly one recipient.</para>
/// <para>Why a MAC: a message's recipients see its id (Message-ID) and its other recipients (To, Cc), so without one
/// anyone who got a copy could forge a bounce or complaint about a co-recipient. With it, only the address Mailroom
/// really used for that recipient, which only that recipient's mail system sees, proves a report. 52 bits make a
/// blind guess succeed once in 4.5·10^15 tries, each an SMTP transaction.</para>
/// </remarks>
public static class Verp
{
    /// <summary>The fixed start of every VERP local part, before the <c>+</c>.</summary>
    public const string Prefix = "pm_bounces";

    /// <summary>Largest recipient index the format carries (6 digits keep the local part within 64 octets).</summary>
    public const int MaxRecipientIndex = 999_999;

    /// <summary>Hex digits of MAC in the address: 13 × 4 = 52 bits.</summary>
    public const int MacLength = 13;

    const int HexLength = 32;

    /// <summary>
    /// Reads the shape of a VERP address made by <see cref="VerpSigner.Encode"/> (any letter case). False for anything
    /// else, including the bare <c>pm_bounces@domain</c>, the unsigned form of earlier versions, and malformed ids,
    /// indexes or MACs. The MAC is not checked here: anyone can write this shape; use <see cref="VerpSigner.Verify"/>.
    /// </summary>
    public static bool TryDecode(string? address, out VerpAddress decoded)
    {
        decoded = default;
        if (string.IsNullOrEmpty(address) || address.Length > 254)
            return false;
        var trimmed = address.AsSpan().Trim();
        if (trimmed.Length > 2 && trimmed[0] == '<' && trimmed[^1] == '>')
            trimmed = trimmed[1..^1];

        var at = trimmed.LastIndexOf('@');
        if (at <= 0 || at > EmailAddress.MaxLocalPartLength)
            return false;
        var local = trimmed[..at];
        var domain = trimmed[(at + 1)..].ToString();
        if (!EmailAddress.IsValidDomain(domain))
            return false;

        if (!local.StartsWith(Prefix + "+", StringComparison.OrdinalIgnoreCase))
            return false;
        var rest = local[(Prefix.Length + 1)..];
        if (rest.Length < HexLength + 1 + 1 + 1 + MacLength || rest[HexLength] != '-' || rest[^(MacLength + 1)] != '-')
            return false;

        var hex = rest[..HexLength];
        if (!IsHex(hex) || !Guid.TryParseExact(hex, "N", out var messageId))
            return false;

        var index = rest[(HexLength + 1)..^(MacLength + 1)];
        if (index.Length is 0 or > 6 || (index.Length > 1 && index[0] == '0'))
            return false;
        foreach (var c in index)
            if (!char.IsAsciiDigit(c))
                return false;
        var recipientIndex = int.Parse(index, NumberStyles.None, CultureInfo.InvariantCulture);

        var mac = rest[^MacLength..];
        if (!IsHex(mac))
            return false;

        decoded = new VerpAddress(messageId, recipientIndex, domain.ToLowerInvariant(), mac.ToString().ToLowerInvariant());
        return true;
    }

    /// <summary>The MAC of (message, index, domain) under <paramref name="key"/>: 13 lower-case hex digits.</summary>
    internal static string Mac(ReadOnlySpan<byte> key, Guid messageId, int recipientIndex, string domain)
    {
        // "verp1:" separates this use of the key from any other; id (fixed length), index and domain are separated by
        // characters none of them contains, so no two inputs share a byte string.
        var input = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"verp1:{messageId:N}-{recipientIndex}@{domain.ToLowerInvariant()}"));
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(key, input, hash);
        return Convert.ToHexStringLower(hash[..7])[..MacLength];
    }

    static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
            if (!char.IsAsciiHexDigit(c))
                return false;
        return true;
    }
}

/// <summary>
/// Makes and checks signed VERP addresses (<see cref="Verp"/>) with the platform's VERP keys: the first key signs,
/// every key verifies, so a key can be replaced while mail signed with the previous one is still bouncing back.
/// Holds keys only; where they are kept is the caller's business.
/// </summary>
public sealed class VerpSigner
{
    /// <summary>Shortest key accepted: 128 bits (RFC 2104 §3: no shorter than the hash output is recommended; 32 bytes are made).</summary>
    public const int MinKeyLength = 16;

    private readonly byte[][] _keys;

    /// <param name="key">Signs and verifies.</param>
    /// <param name="previousKeys">Verify only (mail sent before a key change).</param>
    public VerpSigner(byte[] key, params IEnumerable<byte[]> previousKeys)
    {
        _keys = [key, .. previousKeys];
        foreach (var k in _keys)
            if (k is null || k.Length < MinKeyLength)
                throw new ArgumentException($"A VERP key must have at least {MinKeyLength} bytes.", nameof(key));
    }

    /// <summary>The envelope sender for recipient <paramref name="recipientIndex"/> of message <paramref name="messageId"/>.</summary>
    public string Encode(Guid messageId, int recipientIndex, string returnPathDomain)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(recipientIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(recipientIndex, Verp.MaxRecipientIndex);
        if (!EmailAddress.IsValidDomain(returnPathDomain))
            throw new ArgumentException($"'{returnPathDomain}' is not a valid return-path domain.", nameof(returnPathDomain));
        var domain = returnPathDomain.ToLowerInvariant();
        var mac = Verp.Mac(_keys[0], messageId, recipientIndex, domain);
        return string.Create(CultureInfo.InvariantCulture, $"{Verp.Prefix}+{messageId:N}-{recipientIndex}-{mac}@{domain}");
    }

    /// <summary>True when <paramref name="address"/>'s MAC is the one one of the keys gives its id, index and domain.</summary>
    public bool Verify(VerpAddress address)
    {
        if (address.Mac is not { Length: Verp.MacLength } written || address.Domain is null)
            return false;
        var writtenBytes = Encoding.ASCII.GetBytes(written.ToLowerInvariant());
        var ok = false;
        foreach (var key in _keys)
            // Fixed-time comparison: the time taken tells an attacker nothing about how many digits were right.
            ok |= CryptographicOperations.FixedTimeEquals(writtenBytes, Encoding.ASCII.GetBytes(Verp.Mac(key, address.MessageId, address.RecipientIndex, address.Domain)));
        return ok;
    }

    /// <summary><see cref="Verp.TryDecode"/> and <see cref="Verify"/>: true only for an address one of the keys signed.</summary>
    public bool TryDecodeVerified(string? address, out VerpAddress decoded) =>
        Verp.TryDecode(address, out decoded) && Verify(decoded);
}
