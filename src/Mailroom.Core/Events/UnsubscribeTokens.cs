using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Events;

/// <summary>Who asked to unsubscribe from what: a recipient of one server's stream, and the message the link came in.</summary>
public sealed record UnsubscribeTarget(int ServerId, string Stream, string Recipient, Guid MessageId);

/// <summary>
/// The signed token of an unsubscribe link. It carries everything it names (server, stream, recipient, message), so a
/// link keeps working after the message is purged, and an HMAC-SHA256 (RFC 2104) over those bytes, cut to 128 bits,
/// so nobody can unsubscribe an address from a stream without a link Mailroom sent to it (DESIGN: public links carry
/// signed tokens). Layout before base64url (RFC 4648 §5): version 1, server id (4 bytes, big-endian), stream length
/// (1 byte), stream, message id (16 bytes), recipient (UTF-8, the rest), then the 16-byte MAC.
/// </summary>
public sealed class UnsubscribeTokens(byte[] key)
{
    private const byte Version = 1;
    private const int MacLength = 16;

    public string Create(UnsubscribeTarget t)
    {
        var stream = Encoding.UTF8.GetBytes(t.Stream);
        var recipient = Encoding.UTF8.GetBytes(t.Recipient.Trim().ToLowerInvariant());
        if (stream.Length > 255)
            throw new ArgumentException("A stream ID is at most 30 characters.", nameof(t));
        var body = new byte[1 + 4 + 1 + stream.Length + 16 + recipient.Length];
        body[0] = Version;
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(1), t.ServerId);
        body[5] = (byte)stream.Length;
        stream.CopyTo(body, 6);
        t.MessageId.TryWriteBytes(body.AsSpan(6 + stream.Length));
        recipient.CopyTo(body, 6 + stream.Length + 16);
        var token = new byte[body.Length + MacLength];
        body.CopyTo(token, 0);
        HMACSHA256.HashData(key, body).AsSpan(0, MacLength).CopyTo(token.AsSpan(body.Length));
        return Base64Url.EncodeToString(token);
    }

    /// <summary>The target of a token this platform signed; false for anything altered, truncated or forged.</summary>
    public bool TryRead(string? token, out UnsubscribeTarget target)
    {
        target = null!;
        if (string.IsNullOrEmpty(token) || token.Length > 2000)
            return false;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(token);
        }
        catch (FormatException)
        {
            return false;
        }
        if (bytes.Length < 1 + 4 + 1 + 16 + 1 + MacLength || bytes[0] != Version)
            return false;
        var body = bytes.AsSpan(0, bytes.Length - MacLength);
        var expected = HMACSHA256.HashData(key, body).AsSpan(0, MacLength);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(bytes.Length - MacLength)))
            return false;
        int streamLength = body[5];
        if (body.Length < 6 + streamLength + 16 + 1)
            return false;
        target = new UnsubscribeTarget(
            BinaryPrimitives.ReadInt32BigEndian(body[1..]),
            Encoding.UTF8.GetString(body.Slice(6, streamLength)),
            Encoding.UTF8.GetString(body[(6 + streamLength + 16)..]),
            new Guid(body.Slice(6 + streamLength, 16)));
        return true;
    }
}

/// <summary>
/// The platform's unsubscribe key, kept as every platform key is (<see cref="PlatformKeyring{TSigner}"/>) under
/// <see cref="Name"/>.
/// </summary>
public sealed class UnsubscribeKeyring(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock)
    : PlatformKeyring<UnsubscribeTokens>(scopes, secrets, clock, Name, previousName: null)
{
    public const string Name = "unsubscribe";

    public ValueTask<UnsubscribeTokens> TokensAsync(CancellationToken ct) => SignerAsync(ct);

    protected override UnsubscribeTokens Create(byte[] current, IReadOnlyList<byte[]> previous) => new(current);
}
