namespace Mailroom.Core.Ingress;

/// <summary>
/// The AUTH limits of SMTP submission, enforced by <see cref="SmtpAuthThrottle"/>. The protocol limits (SIZE, line
/// length, connections, timeouts) are the listener's: <c>Mailroom.Smtp.SmtpListenerLimits</c>. Tests shrink them.
/// </summary>
public sealed record SmtpSubmissionLimits
{
    /// <summary>Failed AUTH attempts from one address within <see cref="AuthFailureWindow"/> before AUTH is refused.</summary>
    public int AuthFailuresAllowed { get; init; } = 5;

    public TimeSpan AuthFailureWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long AUTH stays refused (454 4.7.0) for an address that failed too often.</summary>
    public TimeSpan AuthBlock { get; init; } = TimeSpan.FromMinutes(15);
}
