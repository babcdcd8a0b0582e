namespace Mailroom.Contracts;

public sealed record SubscriptionManagementConfiguration(string UnsubscribeHandlingType);

/// <summary>Stream object, spec §4.2.</summary>
public sealed record MessageStreamResponse
{
    public string ID { get; init; } = "";
    public int ServerID { get; init; }
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string MessageStreamType { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public DateTimeOffset? ArchivedAt { get; init; }
    public DateTimeOffset? ExpectedPurgeDate { get; init; }
    public SubscriptionManagementConfiguration SubscriptionManagementConfiguration { get; init; } = new("None");
    /// <summary>Mailroom extension: set while delivery of the stream is held (<c>POST /message-streams/{id}/pause</c> or the breaker).</summary>
    public StreamPause? Paused { get; init; }
}

/// <summary>Mailroom extension on the stream object: since when and why delivery is held.</summary>
public sealed record StreamPause(DateTimeOffset Since, string Reason);

public sealed record MessageStreamList(IReadOnlyList<MessageStreamResponse> MessageStreams, int TotalCount);

public sealed record MessageStreamRequest
{
    public string? ID { get; init; }
    public string? Name { get; init; }
    public string? MessageStreamType { get; init; }
    public string? Description { get; init; }
    public SubscriptionManagementConfigurationRequest? SubscriptionManagementConfiguration { get; init; }
}

public sealed record SubscriptionManagementConfigurationRequest(string? UnsubscribeHandlingType);

public sealed record ArchiveStreamResponse(string ID, int ServerID, DateTimeOffset ExpectedPurgeDate);

/// <summary>The IDs of the three streams every server is made with (spec §4.3); <see cref="Outbound"/> is the stream a
/// send, a query or a suppression means when it names none.</summary>
public static class DefaultStreams
{
    public const string Outbound = "outbound";
    public const string Inbound = "inbound";
    public const string Broadcast = "broadcast";
}
