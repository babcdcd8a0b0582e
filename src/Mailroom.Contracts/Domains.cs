namespace Mailroom.Contracts;

/// <summary>DomainDetails, spec §5.2. Every string is present and never null ("" when there is nothing to show).</summary>
public record DomainDetails
{
    public int ID { get; init; }
    public string Name { get; init; } = "";
    public bool SPFVerified { get; init; }
    public string SPFHost { get; init; } = "";
    public string SPFTextValue { get; init; } = "";
    public bool DKIMVerified { get; init; }
    public bool WeakDKIM { get; init; }
    public string DKIMHost { get; init; } = "";
    public string DKIMTextValue { get; init; } = "";
    public string DKIMPendingHost { get; init; } = "";
    public string DKIMPendingTextValue { get; init; } = "";
    public string DKIMRevokedHost { get; init; } = "";
    public string DKIMRevokedTextValue { get; init; } = "";
    public bool SafeToRemoveRevokedKeyFromDNS { get; init; }
    public string DKIMUpdateStatus { get; init; } = "";
    public string ReturnPathDomain { get; init; } = "";
    public bool ReturnPathDomainVerified { get; init; }
    public string ReturnPathDomainCNAMEValue { get; init; } = "";
}

/// <summary>One item of <c>GET /domains</c>.</summary>
public sealed record DomainListItem(int ID, string Name, bool SPFVerified, bool DKIMVerified, bool WeakDKIM, bool ReturnPathDomainVerified);

public sealed record DomainList(int TotalCount, IReadOnlyList<DomainListItem> Domains);

/// <summary>Create and edit body. <c>Name</c> is read on create only; <c>null</c> means "not given".</summary>
public sealed record DomainRequest
{
    public string? Name { get; init; }
    public string? ReturnPathDomain { get; init; }
}
