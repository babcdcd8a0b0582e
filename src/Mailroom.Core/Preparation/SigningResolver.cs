using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Mailroom.Mail.Dkim;

namespace Mailroom.Core.Preparation;

/// <summary>The DKIM key and Return-Path domain a message earns from its sender identity; or why it may not go
/// (Postmark's ErrorCode 400/401/300 and text).</summary>
public sealed record SigningMaterial(DkimKey? Key, string ReturnPathDomain, string? Refusal, int RefusalCode = 0);

/// <summary>
/// The sending pipeline's one question to sender identities (<see cref="SenderAuthorization"/>), asked at ingress
/// (may this account send From this address?) and again at Preparation (which key signs it now?). The platform's
/// own mail (no account) is signed with the platform key and bounces to the platform's return-path host.
/// </summary>
public sealed class SigningResolver(IServiceScopeFactory scopes, PlatformSettings platform, SettingsCache cache)
{
    /// <summary>The answer for (account, From), kept in the <see cref="SettingsCache"/>: every message asks it twice
    /// (ingress and Preparation), and it costs up to three queries and a key decryption.</summary>
    public async Task<SigningMaterial> ResolveAsync(int? accountId, string from, CancellationToken ct) =>
        (await cache.GetOrLoadAsync("signing", (accountId ?? 0, from.Trim().ToLowerInvariant()), async () => await LoadAsync(accountId, from, ct)))!;

    private async Task<SigningMaterial> LoadAsync(int? accountId, string from, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (accountId is null)
        {
            var keys = scope.ServiceProvider.GetRequiredService<DkimKeyStore>();
            var key = platform.PlatformDomain is { } d ? keys.SigningKey(await keys.PlatformKeyAsync(ct), d) : null;
            return new SigningMaterial(key, platform.ReturnPathHost, null);
        }
        var decision = await scope.ServiceProvider.GetRequiredService<SenderAuthorization>().AuthorizeAsync(accountId.Value, from, ct);
        if (!decision.Allowed)
            return new SigningMaterial(null, "", decision.Message, decision.ErrorCode);
        return new SigningMaterial(decision.Dkim, decision.ReturnPathDomain, null);
    }
}
