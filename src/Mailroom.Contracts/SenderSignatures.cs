namespace Mailroom.Contracts;

/// <summary>SignatureDetails, spec §5.2: DomainDetails plus the signature's own fields (the JS client's model
/// extends DomainDetails the same way). <c>Name</c> is the display name of the From address.</summary>
public sealed record SignatureDetails : DomainDetails
{
    public SignatureDetails() { }

    /// <summary>Starts from a domain's details (its DKIM fields); the caller sets the signature's own.</summary>
    public SignatureDetails(DomainDetails domain) : base(domain) { }

    public string Domain { get; init; } = "";
    public string EmailAddress { get; init; } = "";
    public string ReplyToEmailAddress { get; init; } = "";
    public bool Confirmed { get; init; }
    public string ConfirmationPersonalNote { get; init; } = "";
}

/// <summary>One item of <c>GET /senders</c>.</summary>
public sealed record SignatureListItem(int ID, string Domain, string EmailAddress, string ReplyToEmailAddress, string Name, bool Confirmed);

public sealed record SignatureList(int TotalCount, IReadOnlyList<SignatureListItem> SenderSignatures);

/// <summary>Create (<c>FromEmail</c>, <c>Name</c> required) and edit (<c>Name</c> required; <c>FromEmail</c>
/// ignored) body. <c>null</c> means "not given"; on edit an empty string clears an optional field.</summary>
public sealed record SignatureRequest
{
    public string? FromEmail { get; init; }
    public string? Name { get; init; }
    public string? ReplyToEmail { get; init; }
    public string? ReturnPathDomain { get; init; }
    public string? ConfirmationPersonalNote { get; init; }
}
