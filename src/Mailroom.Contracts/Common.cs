namespace Mailroom.Contracts;

/// <summary>Postmark's error and action-result body (spec §1.4).</summary>
public sealed record ErrorResponse(int ErrorCode, string Message);

public sealed record AccountCreated(int AccountID, string Name, string AccountToken);
