namespace Mailroom.Core.Delivery;

/// <summary>How Mailroom talks to other mail servers.</summary>
public sealed record DeliveryOptions
{
    /// <summary>Name given in EHLO (should have matching forward and reverse DNS in production).</summary>
    public string HeloName { get; init; } = Environment.MachineName;
    /// <summary>Port of remote MX hosts: 25 in production; tests point it at a loopback sink.</summary>
    public int Port { get; init; } = 25;
    /// <summary>Optional smart host: every message goes there instead of to MX hosts.</summary>
    public RelayHost? Relay { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>RFC 5321 §4.5.3.2 suggests minutes per command; Mailroom waits this long for any reply.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Most simultaneous connections to one destination domain.</summary>
    public int MaxConnectionsPerDomain { get; init; } = 4;
    /// <summary>Most simultaneous connections overall for one worker.</summary>
    public int MaxConnections { get; init; } = 32;
    /// <summary>Most messages sent over one connection before it is closed and opened afresh.</summary>
    public int MaxMessagesPerConnection { get; init; } = 100;
    /// <summary>How long a claimed delivery stays with its worker before another may take it. Short, because a round
    /// renews its claims every <see cref="LeaseRenewal"/> while it works on them: a node killed mid-round holds its
    /// claims at most this long (and less when another node sees its heartbeat stop, see NodeRegistry).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How often a round in progress pushes its claims' lease forward (a third of the lease: two renewals
    /// may fail before a live node's claims expire).</summary>
    public TimeSpan LeaseRenewal { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Deliveries claimed per round.</summary>
    public int ClaimBatch { get; init; } = 500;
    public RetrySchedule Retries { get; init; } = RetrySchedule.Default;
    /// <summary>This process's node identity (<see cref="Storage.NodeIdentity"/>, made at start): the owner of its
    /// claims.</summary>
    public string NodeId { get; init; } = new Storage.NodeIdentity().Id;
}

/// <summary>A smart host (<c>--relay HOST:PORT</c>) with optional AUTH credentials.</summary>
public sealed record RelayHost(string Host, int Port, string? Username, string? Password);
