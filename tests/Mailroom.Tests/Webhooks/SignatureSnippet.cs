// The C# verification snippet of the README's "Webhooks" section, verbatim (WebhookDispatchTests verifies with it).
using System.Security.Cryptography;

namespace Mailroom.Tests.Webhooks;

public static class MailroomWebhookVerifier
{
    // README:BEGIN csharp-verify
    /// <summary>True when X-Mailroom-Signature is valid for this raw body and secret, and not older than 5 minutes.</summary>
    public static bool Verify(string signatureHeader, string rawBody, string secret, long nowUnixSeconds, long toleranceSeconds = 300)
    {
        var fields = signatureHeader.Split(',').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToList();
        var t = fields.FirstOrDefault(f => f[0] == "t")?[1];
        if (t is null || !long.TryParse(t, out var ts) || Math.Abs(nowUnixSeconds - ts) > toleranceSeconds)
            return false;
        var expected = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{rawBody}"))));
        return fields.Where(f => f[0] == "v1")
            .Any(f => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(f[1]), expected));
    }
    // README:END csharp-verify
}
