namespace Mailroom.Core.Identities;

/// <summary>
/// A domain an account sends from (spec §5, "Domains"). Proven by DNS: its DKIM TXT record carries our public key
/// (RFC 6376 §3.6.2) and, optionally, its Return-Path host is a CNAME to the platform's bounce host.
/// </summary>
public sealed class SendingDomain
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    /// <summary>Lower case, no trailing dot. Unique within an account only: DNS proves ownership per account
    /// (each account has its own selector), so one account cannot squat a name another needs.</summary>
    public required string Name { get; set; }
    /// <summary>Envelope sender (RFC 5321 MAIL FROM) domain; a subdomain of <see cref="Name"/>.</summary>
    public required string ReturnPathDomain { get; set; }
    public bool ReturnPathVerified { get; set; }
    public DateTime? ReturnPathCheckedAt { get; set; }
    /// <summary>Why the last Return-Path check did not pass ("" when it did).</summary>
    public string ReturnPathProblem { get; set; } = "";
    /// <summary>When a verified Return-Path CNAME was found missing (the background re-check sets it).</summary>
    public DateTime? ReturnPathLostAt { get; set; }
    /// <summary>The active key's TXT record was found: the domain may be used in From and its key signs.</summary>
    public bool DkimVerified { get; set; }
    public DateTime? DkimCheckedAt { get; set; }
    public string DkimProblem { get; set; } = "";
    /// <summary>When the active key's record was found missing or changed after it had been verified.</summary>
    public DateTime? DkimLostAt { get; set; }
    /// <summary>Deprecated by Postmark but still answered: the domain's SPF record includes our include host.</summary>
    public bool SpfVerified { get; set; }
    public DateTime CreatedAt { get; set; }
    public List<StoredDkimKey> Keys { get; set; } = [];
}

/// <summary>
/// An RSA-2048 DKIM key: of a <see cref="SendingDomain"/>, or of the platform itself when <see cref="DomainId"/> is
/// null. At most one key per domain in each state (a unique index holds it). The private key is encrypted at rest
/// with Data Protection.
/// </summary>
public sealed class StoredDkimKey
{
    public long Id { get; set; }
    public int? DomainId { get; set; }
    /// <summary><c>yyyyMMddHHmmss</c> + <c>pm</c>, as Postmark's; the record lives at <c>&lt;selector&gt;._domainkey.&lt;domain&gt;</c>.</summary>
    public required string Selector { get; set; }
    /// <summary>Base64 DER SubjectPublicKeyInfo: the <c>p=</c> tag of the TXT record (RFC 6376 §3.6.1).</summary>
    public required string PublicKey { get; set; }
    /// <summary>PKCS#1 PEM, protected with <see cref="Secrets.ProtectKey"/>.</summary>
    public required string ProtectedPrivateKey { get; set; }
    public DkimKeyState State { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ActivatedAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>A key's place in rotation: pending (waiting for its DNS record) → active (signs) → revoked (replaced;
/// its record may be removed after a grace period). Persisted: the numbers are frozen by a test.</summary>
public enum DkimKeyState { Pending = 0, Active = 1, Revoked = 2 }

/// <summary>
/// One address an account may send from once its owner has clicked the emailed link (spec §5, "Sender signatures").
/// </summary>
public sealed class SenderSignature
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    /// <summary>As given, with the domain lower-cased.</summary>
    public required string EmailAddress { get; set; }
    /// <summary>Lower-case address: the key of uniqueness and of sender authorization.</summary>
    public required string NormalizedEmail { get; set; }
    public required string Domain { get; set; }
    public required string Name { get; set; }
    public string ReplyToEmail { get; set; } = "";
    public string ReturnPathDomain { get; set; } = "";
    public bool ReturnPathVerified { get; set; }
    public DateTime? ReturnPathCheckedAt { get; set; }
    public string ReturnPathProblem { get; set; } = "";
    public DateTime? ReturnPathLostAt { get; set; }
    public bool SpfVerified { get; set; }
    public string ConfirmationPersonalNote { get; set; } = "";
    public bool Confirmed { get; set; }
    public DateTime? ConfirmedAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public List<SenderConfirmation> Confirmations { get; set; } = [];
}

/// <summary>
/// One emailed confirmation link. The token is 256 random bits; only its SHA-256 is stored. A link is single use,
/// expires, and is superseded when a newer one is sent (resend).
/// </summary>
public sealed class SenderConfirmation
{
    public long Id { get; set; }
    public int SignatureId { get; set; }
    public required string TokenHash { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
    public DateTime? SupersededAt { get; set; }
}
