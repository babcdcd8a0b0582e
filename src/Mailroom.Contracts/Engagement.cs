namespace Mailroom.Contracts;

/// <summary>Client or OS of an open or click (spec §8.2).</summary>
public sealed record AgentFamily(string Name, string Company, string Family);

/// <summary>Geography of an open or click (spec §8.2); empty without an operator's GeoIP database.</summary>
public sealed record GeoInfo
{
    public string? CountryISOCode { get; init; }
    public string? Country { get; init; }
    public string? RegionISOCode { get; init; }
    public string? Region { get; init; }
    public string? City { get; init; }
    public string? Zip { get; init; }
    public string? Coords { get; init; }
    public string? IP { get; init; }
}

/// <summary>What an open and a click of spec §8.2 both say after their own fields: where, which message and recipient,
/// and Mailroom's <c>Machine</c>. System.Text.Json writes a derived record's own properties first, so these stay last on
/// the wire, as Postmark orders them.</summary>
public abstract record EngagementEventResponse
{
    public GeoInfo Geo { get; init; } = new();
    public Guid MessageID { get; init; }
    public string MessageStream { get; init; } = "";
    public DateTimeOffset ReceivedAt { get; init; }
    public string Tag { get; init; } = "";
    public string Recipient { get; init; } = "";
    public bool Machine { get; init; }
}

/// <summary>OpenEvent of spec §8.2, plus Mailroom's <c>Machine</c> (an image proxy's prefetch or privacy prefetch).</summary>
public sealed record OpenEventResponse : EngagementEventResponse
{
    public string RecordType { get; init; } = "Open";
    public bool FirstOpen { get; init; }
    public AgentFamily Client { get; init; } = new("", "", "");
    public AgentFamily OS { get; init; } = new("", "", "");
    public string Platform { get; init; } = "Unknown";
    public string UserAgent { get; init; } = "";
    public int ReadSeconds { get; init; }
}

/// <summary>ClickEvent of spec §8.2, plus Mailroom's <c>Machine</c> (a link scanner).</summary>
public sealed record ClickEventResponse : EngagementEventResponse
{
    public string RecordType { get; init; } = "Click";
    public string ClickLocation { get; init; } = "HTML";
    public AgentFamily Client { get; init; } = new("", "", "");
    public AgentFamily OS { get; init; } = new("", "", "");
    public string Platform { get; init; } = "Unknown";
    public string UserAgent { get; init; } = "";
    public string OriginalLink { get; init; } = "";
}

public sealed record OpenList(int TotalCount, IReadOnlyList<OpenEventResponse> Opens);

public sealed record ClickList(int TotalCount, IReadOnlyList<ClickEventResponse> Clicks);
