namespace Mailroom.Contracts;

/// <summary>Bounce object, spec §6.2. <c>Content</c> only on the single bounce and activate.</summary>
public sealed record BounceResponse
{
    public string RecordType { get; init; } = "Bounce";
    public long ID { get; init; }
    public string Type { get; init; } = "";
    public int TypeCode { get; init; }
    public string Name { get; init; } = "";
    public string Tag { get; init; } = "";
    public string? MessageID { get; init; }
    public int ServerID { get; init; }
    public string MessageStream { get; init; } = "";
    public string Description { get; init; } = "";
    public string Details { get; init; } = "";
    public string Email { get; init; } = "";
    public string From { get; init; } = "";
    public DateTimeOffset BouncedAt { get; init; }
    public bool DumpAvailable { get; init; }
    public bool Inactive { get; init; }
    public bool CanActivate { get; init; }
    public string Subject { get; init; } = "";
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }
}

public sealed record BounceList(int TotalCount, IReadOnlyList<BounceResponse> Bounces);

public sealed record BounceDump(string Body);

public sealed record BounceActivated(string Message, BounceResponse Bounce);

/// <summary>One row of <c>/deliverystats</c>: the first ("All") has no Type.</summary>
public sealed record BounceCount
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Type { get; init; }
    public string Name { get; init; } = "";
    public int Count { get; init; }
}

public sealed record DeliveryStats(int InactiveMails, IReadOnlyList<BounceCount> Bounces);

/// <summary>Suppressions, spec §7.</summary>
public sealed record SuppressionEntry(string EmailAddress, string SuppressionReason, string Origin, DateTimeOffset CreatedAt);

public sealed record SuppressionDump(IReadOnlyList<SuppressionEntry> Suppressions);

public sealed record SuppressionAddress(string? EmailAddress);

public sealed record SuppressionRequest(IReadOnlyList<SuppressionAddress?>? Suppressions);

public sealed record SuppressionResult(string EmailAddress, string Status, string? Message);

public sealed record SuppressionResults(IReadOnlyList<SuppressionResult> Suppressions);
