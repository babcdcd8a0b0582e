namespace Mailroom.Contracts;

/// <summary>
/// A per-stream SMTP credential, Mailroom's form of Postmark's SMTP tokens (spec §12.2: an Access Key as the SMTP
/// user name, a Secret Key as the password; Postmark documents no endpoint for them). The secret is shown once.
/// </summary>
public sealed record SmtpTokenCreated(string AccessKey, string SecretKey, string MessageStream, DateTimeOffset CreatedAt);

/// <summary>A stream's SMTP token as listed: never its secret.</summary>
public sealed record SmtpTokenInfo(string AccessKey, string MessageStream, DateTimeOffset CreatedAt);

public sealed record SmtpTokenList(int TotalCount, IReadOnlyList<SmtpTokenInfo> SmtpTokens);
