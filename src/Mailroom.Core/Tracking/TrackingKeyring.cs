using Mailroom.Mail.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core.Tracking;

/// <summary>
/// The key of tracking tokens (<see cref="TrackingTokenSigner"/>), kept as every platform key is
/// (<see cref="PlatformKeyring{TSigner}"/>). A row named <see cref="PreviousName"/> still verifies after an operator
/// replaces the key (links in mail already sent keep working).
/// </summary>
public sealed class TrackingKeyring(IServiceScopeFactory scopes, Secrets secrets, TimeProvider clock)
    : PlatformKeyring<TrackingTokenSigner>(scopes, secrets, clock, CurrentName, PreviousName)
{
    public const string CurrentName = "tracking";
    public const string PreviousName = "tracking.previous";

    protected override TrackingTokenSigner Create(byte[] current, IReadOnlyList<byte[]> previous) => new(current, previous);
}
