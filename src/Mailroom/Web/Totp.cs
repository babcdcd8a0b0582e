using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Mailroom.Web;

/// <summary>
/// Time-based one-time passwords (RFC 6238) as authenticator apps make them: HOTP (RFC 4226) with HMAC-SHA1 over the
/// number of 30-second steps since the Unix epoch, six digits. Pure: the time comes in as an argument.
/// </summary>
public static class Totp
{
    public const int StepSeconds = 30; // RFC 6238 §5.2: the recommended time-step
    public const int Digits = 6;
    public const int KeyBytes = 20; // RFC 4226 §4 R6: at least 128 bits, 160 recommended (the HMAC-SHA1 output size)

    /// <summary>The time step that holds <paramref name="time"/> (RFC 6238 §4.2: T = floor((now - T0) / X), T0 = 0).</summary>
    public static long StepAt(DateTimeOffset time) => Math.DivRem(time.ToUnixTimeSeconds(), StepSeconds, out var r) - (r < 0 ? 1 : 0);

    /// <summary>The code of one step: RFC 4226 §5.3 dynamic truncation of HMAC-SHA1(key, step as 8 bytes big-endian).</summary>
    public static string Code(ReadOnlySpan<byte> key, long step, int digits = Digits)
    {
        Span<byte> counter = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(counter, step);
        Span<byte> mac = stackalloc byte[20];
        HMACSHA1.HashData(key, counter, mac);
        var offset = mac[19] & 0x0f;
        var binary = (BinaryPrimitives.ReadInt32BigEndian(mac[offset..]) & 0x7fffffff);
        var modulo = 1;
        for (var i = 0; i < digits; i++)
            modulo *= 10;
        return (binary % modulo).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0');
    }

    /// <summary>
    /// The step whose code <paramref name="code"/> is, within one step either side of <paramref name="now"/> (RFC 6238 §5.2:
    /// allow for clock drift and the time the user takes to type), and only a step after <paramref name="lastUsedStep"/>
    /// so an accepted code cannot be used again; null when none matches.
    /// </summary>
    public static long? Match(ReadOnlySpan<byte> key, string? code, DateTimeOffset now, long lastUsedStep)
    {
        code = code?.Replace(" ", "", StringComparison.Ordinal).Trim();
        if (code is null || code.Length != Digits || !code.All(char.IsAsciiDigit))
            return null;
        var current = StepAt(now);
        long? matched = null;
        for (var step = current - 1; step <= current + 1; step++) // every candidate is computed: no early exit to time
        {
            var expected = Code(key, step);
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(code)) && step > lastUsedStep)
                matched ??= step;
        }
        return matched;
    }

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeyBytes);

    /// <summary>The <c>otpauth://</c> URI authenticator apps read (Google Authenticator's Key Uri Format; the defaults
    /// SHA1, 6 digits, 30 s are spelled out for apps that do not assume them).</summary>
    public static string KeyUri(string issuer, string accountName, ReadOnlySpan<byte> key) =>
        $"otpauth://totp/{Uri.EscapeDataString(issuer)}:{Uri.EscapeDataString(accountName)}?secret={Base32.Encode(key)}" +
        $"&issuer={Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits={Digits}&period={StepSeconds}";
}

/// <summary>RFC 4648 §6 base32 (upper case, no padding: the form authenticator apps take a key in).</summary>
public static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0)
            sb.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        return sb.ToString();
    }

    /// <summary>Decodes base32, ignoring case, spaces and padding; null for any other character.</summary>
    public static byte[]? Decode(string text)
    {
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var ch in text)
        {
            if (ch is ' ' or '=' or '-')
                continue;
            var value = Alphabet.IndexOf(char.ToUpperInvariant(ch), StringComparison.Ordinal);
            if (value < 0)
                return null;
            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }
        return [.. output];
    }
}
