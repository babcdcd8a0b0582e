using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// <c>X-Mailroom-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;body&gt;")&gt;</c> (Mailroom
/// extension; Postmark signs nothing). The timestamp is inside the MAC so a receiver can refuse old replays; after a
/// rotation the previous secret signs too, as a second <c>v1=</c>, so receivers can switch keys without a gap.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "X-Mailroom-Signature";

    public static string Sign(long unixSeconds, string body, string secret, string? previousSecret = null)
    {
        var value = $"t={unixSeconds},v1={Mac(unixSeconds, body, secret)}";
        return previousSecret is null ? value : value + $",v1={Mac(unixSeconds, body, previousSecret)}";
    }

    /// <summary>The same header from the body's UTF-8 bytes and the secrets' bytes (the dispatcher encodes each once):
    /// the signed text is built in a pooled buffer instead of a string per POST.</summary>
    public static string Sign(long unixSeconds, ReadOnlySpan<byte> bodyUtf8, byte[] secretKey, byte[]? previousSecretKey)
    {
        Span<char> prefix = stackalloc char[24];
        unixSeconds.TryFormat(prefix, out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        var length = digits + 1 + bodyUtf8.Length;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            for (var i = 0; i < digits; i++)
                buffer[i] = (byte)prefix[i];
            buffer[digits] = (byte)'.';
            bodyUtf8.CopyTo(buffer.AsSpan(digits + 1));
            var signed = buffer.AsSpan(0, length);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(secretKey, signed, mac);
            var value = $"t={prefix[..digits]},v1={Convert.ToHexStringLower(mac)}";
            if (previousSecretKey is null)
                return value;
            HMACSHA256.HashData(previousSecretKey, signed, mac);
            return value + $",v1={Convert.ToHexStringLower(mac)}";
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static string Mac(long unixSeconds, string body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{unixSeconds}.{body}")));
}
