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

    public static string Mac(long unixSeconds, string body, string secret) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{unixSeconds}.{body}")));
}
