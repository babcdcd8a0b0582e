using System.Globalization;

namespace Mailroom.Mail.Addresses;

/// <summary>A decoded VERP envelope sender: which message and which of its recipients a bounce is about.</summary>
/// <param name="MessageId">The message's id (the GUID of its Message-ID).</param>
/// <param name="RecipientIndex">0-based index into the message's envelope recipients (<c>OutboundMessageSpec.EnvelopeRecipients()</c>).</param>
/// <param name="Domain">The return-path domain the bounce was sent to, lower case.</param>
public readonly record struct VerpAddress(Guid MessageId, int RecipientIndex, string Domain);

/// <summary>
/// Variable envelope return path: each recipient's copy of a message is sent with its own envelope
/// sender (SMTP MAIL FROM, RFC 5321 §3.3, which becomes Return-Path, RFC 5321 §4.4), so a bounce,
/// which goes to that address, names the message and recipient without parsing the DSN.
/// </summary>
/// <remarks>
/// <para>Format: <c>pm_bounces+&lt;id&gt;-&lt;index&gt;@&lt;return-path domain&gt;</c>, where <c>&lt;id&gt;</c> is the
/// message GUID as 32 lower-case hex digits (no dashes) and <c>&lt;index&gt;</c> the recipient's 0-based
/// position among the message's envelope recipients, in decimal without leading zeros. Example:
/// <c>pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0@pm-bounces.example.com</c>.</para>
/// <para>The local part is at most 11 + 32 + 1 + 10 = 54 octets, within SMTP's 64 (RFC 5321 §4.5.3.1.1),
/// and uses only atext characters, so it needs no quoting (RFC 5321 §4.1.2). Decoding ignores case,
/// since some relays change it. An index rather than a hash of the address keeps the local part short
/// and maps to exactly one recipient; the bounce handler looks the address up by index in the stored message.</para>
/// <para>The address is not authenticated: anyone who knows a message id can forge a bounce for it.
/// Message ids are random GUIDs, but recipients of the message see them, so bounce handling should
/// check the DSN against the stored recipient as well.</para>
/// </remarks>
public static class Verp
{
    /// <summary>The fixed start of every VERP local part, before the <c>+</c>.</summary>
    public const string Prefix = "pm_bounces";

    const int HexLength = 32;

    /// <summary>The envelope sender for recipient <paramref name="recipientIndex"/> of message <paramref name="messageId"/>.</summary>
    public static string Encode(Guid messageId, int recipientIndex, string returnPathDomain)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(recipientIndex);
        if (!EmailAddress.IsValidDomain(returnPathDomain))
            throw new ArgumentException($"'{returnPathDomain}' is not a valid return-path domain.", nameof(returnPathDomain));
        var local = string.Create(CultureInfo.InvariantCulture, $"{Prefix}+{messageId:N}-{recipientIndex}");
        return local + "@" + returnPathDomain.ToLowerInvariant();
    }

    /// <summary>
    /// Reads a VERP address made by <see cref="Encode"/> (any letter case). False for anything else,
    /// including the bare <c>pm_bounces@domain</c> and malformed ids or indexes.
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
        if (rest.Length < HexLength + 2 || rest[HexLength] != '-')
            return false;

        var hex = rest[..HexLength];
        foreach (var c in hex)
            if (!char.IsAsciiHexDigit(c))
                return false;
        if (!Guid.TryParseExact(hex, "N", out var messageId))
            return false;

        var index = rest[(HexLength + 1)..];
        if (index.Length > 10 || (index.Length > 1 && index[0] == '0'))
            return false;
        foreach (var c in index)
            if (!char.IsAsciiDigit(c))
                return false;
        if (!int.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out var recipientIndex))
            return false;

        decoded = new VerpAddress(messageId, recipientIndex, domain.ToLowerInvariant());
        return true;
    }
}
