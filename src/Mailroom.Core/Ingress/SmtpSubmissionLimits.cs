namespace Mailroom.Core.Ingress;

/// <summary>
/// The limits of SMTP submission, in one place. The listener (<c>Mailroom/Smtp</c>) enforces the protocol ones;
/// <see cref="SmtpIngress"/> and <see cref="SmtpAuthThrottle"/> the others. Tests shrink them.
/// </summary>
public sealed record SmtpSubmissionLimits
{
    /// <summary>The SIZE advertised and enforced (RFC 1870): 10 MB, as the Email API and Postmark.</summary>
    public int MaxMessageBytes { get; init; } = OutboundAdmission.MaxMessageBytes;

    /// <summary>RCPT commands accepted in one transaction; the next gets 452 4.5.3 (RFC 5321 §4.5.3.1.10).</summary>
    public int MaxRecipients { get; init; } = OutboundAdmission.MaxRecipients;

    /// <summary>
    /// Longest command line accepted. RFC 5321 §4.5.3.1.4 sets 512 octets for commands, but RFC 4954 §4 lets an
    /// AUTH line with its initial response reach 12288, so that is the bound; a longer line gets 500 5.5.2 and the
    /// connection is closed. Message lines are bounded only by <see cref="MaxMessageBytes"/> (RFC 5321 §4.5.3.1
    /// asks servers to impose as few limits as possible).
    /// </summary>
    public int MaxCommandLineBytes { get; init; } = 12288;

    /// <summary>Open connections from one client address; more get 421 4.7.0 at connect (as Postfix's 50).</summary>
    public int MaxConnectionsPerAddress { get; init; } = 50;

    /// <summary>Open connections in all.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>Waiting for the next command: 5 minutes (RFC 5321 §4.5.3.2.7).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Waiting for more message data, and for a TLS handshake: the server-side timeouts of RFC 5321 §4.5.3.2 are
    /// all at least this long (3 minutes per data block for the client, 10 minutes for the final reply).
    /// </summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A whole connection, however busy; a client that sends for longer reconnects.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Failed AUTH attempts from one address within <see cref="AuthFailureWindow"/> before AUTH is refused.</summary>
    public int AuthFailuresAllowed { get; init; } = 5;

    public TimeSpan AuthFailureWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long AUTH stays refused (454 4.7.0) for an address that failed too often.</summary>
    public TimeSpan AuthBlock { get; init; } = TimeSpan.FromMinutes(15);
}
