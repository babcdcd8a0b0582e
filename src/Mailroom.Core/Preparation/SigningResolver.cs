using Mailroom.Mail.Dkim;

namespace Mailroom.Core.Preparation;

/// <summary>The DKIM key and Return-Path domain a message earns from its sender identity; or why it may not go.</summary>
public sealed record SigningMaterial(DkimKey? Key, string ReturnPathDomain, string? Refusal, int RefusalCode = 0);

/// <summary>
/// Asks sender identities which key signs a message and which domain receives its bounces.
/// </summary>
public sealed class SigningResolver(PlatformSettings platform)
{
    public Task<SigningMaterial> ResolveAsync(int? accountId, string from, CancellationToken ct)
    {
        _ = accountId;
        _ = from;
        return Task.FromResult(new SigningMaterial(null, "pm-bounces." + new Uri(platform.PublicUrl).Host, null));
    }
}
