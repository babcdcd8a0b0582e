using Mailroom.Core.Ingress;

namespace Mailroom.Smtp;

/// <summary>
/// The protocol limits of one SMTP listener, in one place: <see cref="SmtpListenerFactory"/>, <see cref="InputGuard"/>,
/// <see cref="CommandGate"/> and the stores enforce them the same way for both listeners. Each listener has its own
/// (<see cref="Submission"/>, <see cref="Mx"/>), registered as keyed singletons (<see cref="SubmissionKey"/>,
/// <see cref="MxKey"/>) so tests can shrink them.
/// </summary>
public sealed record SmtpListenerLimits
{
    public const string SubmissionKey = "smtp";
    public const string MxKey = "mx";

    /// <summary>The SIZE advertised in EHLO and enforced while DATA is read (RFC 1870).</summary>
    public required int MaxMessageBytes { get; init; }

    /// <summary>RCPT commands accepted in one transaction; the next gets 452 4.5.3 (RFC 5321 §4.5.3.1.10).</summary>
    public required int MaxRecipients { get; init; }

    /// <summary>
    /// Longest command line accepted; a longer one gets 500 5.5.2 and the connection is closed, after reading at most
    /// this much of it. RFC 5321 §4.5.3.1.4 sets 512 octets for commands; extensions add parameters, so a listener
    /// allows more. Message lines are bounded only by <see cref="MaxMessageBytes"/> (RFC 5321 §4.5.3.1 asks servers to
    /// impose as few limits as possible).
    /// </summary>
    public required int MaxCommandLineBytes { get; init; }

    /// <summary>Open connections from one client address; more get 421 4.7.0 at connect (RFC 5321 §3.8).</summary>
    public required int MaxConnectionsPerAddress { get; init; }

    /// <summary>Open connections in all; more get 421 4.7.0 at connect.</summary>
    public required int MaxConnections { get; init; }

    /// <summary>
    /// Message content held in memory by all connections together, from DATA until the message is answered (each
    /// message is held whole: the store needs all of it; storing and processing make a copy or two more). A message
    /// that would pass this is read to its end, dropped and answered 452 4.3.1 (RFC 3463: system full), so the sender
    /// retries later; without it, every connection could hold <see cref="MaxMessageBytes"/> at once.
    /// </summary>
    public required long MaxDataBytesInFlight { get; init; }

    /// <summary>Waiting for the next command (RFC 5321 §4.5.3.2.7: at least 5 minutes).</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Waiting for more message data, and for a TLS handshake (RFC 5321 §4.5.3.2: 3 minutes per data block
    /// for the client, 10 minutes for the final reply).</summary>
    public TimeSpan DataTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A whole connection, however busy; a client that needs longer reconnects.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// SMTP submission: 10 MB as the Email API and Postmark; 50 recipients as the API; 12,288-octet lines because
    /// RFC 4954 §4 lets an AUTH line with its initial response reach that; 50 connections per address (as Postfix's
    /// smtpd_client_connection_count_limit), 1,000 in all; 1 GB of content in flight (100 maximal messages).
    /// </summary>
    public static SmtpListenerLimits Submission { get; } = new()
    {
        MaxMessageBytes = OutboundAdmission.MaxMessageBytes,
        MaxRecipients = OutboundAdmission.MaxRecipients,
        MaxCommandLineBytes = 12288,
        MaxConnectionsPerAddress = 50,
        MaxConnections = 1000,
        MaxDataBytesInFlight = 1024L * 1024 * 1024,
    };

    /// <summary>
    /// The MX listener, open to anyone without AUTH: 35 MB (Postmark's inbound limit; a bounce carries the original
    /// message, and Mailroom sends at most 10 MB); 100 recipients (RFC 5321 §4.5.3.1.8's minimum); 4,096-octet lines (512 for the command plus room for
    /// ESMTP parameters); 100 connections per address and 1,000 in all (a remote MTA opens a handful, 21,000 idle
    /// connections once took a node down); 128 MB of content in flight (three maximal messages: reports are mostly a few
    /// KB, and storing and parsing one copies it); 10 minutes for DATA
    /// (RFC 5321 §4.5.3.2.6's final-reply wait).
    /// </summary>
    public static SmtpListenerLimits Mx { get; } = new()
    {
        MaxMessageBytes = 35 * 1024 * 1024,
        MaxRecipients = 100,
        MaxCommandLineBytes = 4096,
        MaxConnectionsPerAddress = 100,
        MaxConnections = 1000,
        MaxDataBytesInFlight = 128L * 1024 * 1024,
        DataTimeout = TimeSpan.FromMinutes(10),
    };
}

/// <summary>
/// Bytes of message content held by the connections of one listener (<see cref="SmtpListenerLimits.MaxDataBytesInFlight"/>).
/// A connection takes what it reads and gives it all back when its message is answered or the connection ends.
/// </summary>
internal sealed class DataBudget(long capacity)
{
    private long _used;

    public long Used => Interlocked.Read(ref _used);

    public bool TryTake(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= capacity)
            return true;
        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Return(long bytes)
    {
        if (bytes > 0)
            Interlocked.Add(ref _used, -bytes);
    }
}
