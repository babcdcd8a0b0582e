using Mailroom.Mail.Addresses;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Events;

/// <summary>
/// The platform's VERP keys (<see cref="VerpSigner"/>): delivery signs every return path with them, the MX path
/// checks that a report came to one it signed. Kept as every platform key is (<see cref="PlatformKeyring{TSigner}"/>);
/// a row named <see cref="PreviousName"/> still verifies (bounces of mail sent before a key change come back for days).
/// </summary>
public sealed class VerpKeyring(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock)
    : PlatformKeyring<VerpSigner>(scopes, secrets, clock, CurrentName, PreviousName)
{
    public const string CurrentName = "verp";
    public const string PreviousName = "verp.previous";

    protected override VerpSigner Create(byte[] current, IReadOnlyList<byte[]> previous) => new(current, previous);
}
