using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Mailroom.Core;

/// <summary>
/// API tokens are random 128-bit values written as GUIDs (the shape Postmark's tokens have). They are found by
/// their SHA-256 hash; where the API must show a token again it is also kept encrypted with Data Protection.
/// </summary>
public sealed class Secrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _tokens = provider.CreateProtector("Mailroom.ApiTokens.v1");
    private readonly IDataProtector _keys = provider.CreateProtector("Mailroom.PrivateKeys.v1");

    public static string NewToken() => new Guid(RandomNumberGenerator.GetBytes(16)).ToString("D");

    public static string Hash(string token)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(token.Trim()), hash);
        return Convert.ToHexStringLower(hash);
    }

    public string ProtectToken(string token) => _tokens.Protect(token);
    public string UnprotectToken(string protectedToken) => _tokens.Unprotect(protectedToken);
    public string ProtectKey(string secret) => _keys.Protect(secret);
    public string UnprotectKey(string protectedSecret) => _keys.Unprotect(protectedSecret);
}
