namespace Mailroom.Core.Accounts;

/// <summary>A person who signs in to the web app. Belongs to one account; its role says what it may do there.</summary>
public sealed class WebUser
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    public required string Email { get; set; }
    /// <summary>Lower-case <see cref="Email"/>: unique over the platform (one sign-in name, one account).</summary>
    public required string NormalizedEmail { get; set; }
    public WebRole Role { get; set; }
    /// <summary>ASP.NET Core Identity's PasswordHasher format; null until the user sets a password from the link.</summary>
    public string? PasswordHash { get; set; }
    /// <summary>Changes on a password change and on "sign out everywhere": every cookie carrying an older stamp is refused.</summary>
    public required string SecurityStamp { get; set; }
    /// <summary>SHA-256 of the one-time set-password token; null once used.</summary>
    public string? SetPasswordTokenHash { get; set; }
    public DateTime? SetPasswordExpiresAt { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>The TOTP key (RFC 6238), encrypted with Data Protection; set from "set up" on, in use once
    /// <see cref="TotpEnabledAt"/> is set (the user proved it with a code).</summary>
    public string? TotpSecret { get; set; }
    public DateTime? TotpEnabledAt { get; set; }
    /// <summary>The last time step whose code was accepted: a code of that step or an earlier one is refused
    /// (RFC 6238 §5.2: a verifier must not accept the second attempt of the same OTP).</summary>
    public long TotpLastStep { get; set; }
    /// <summary>SHA-256 of each unused recovery code, space-separated; a used code is removed.</summary>
    public string? RecoveryCodeHashes { get; set; }
    public List<WebUserServer> Servers { get; set; } = [];
}

/// <summary>
/// A signed, expiring link an owner or admin gives a customer: it opens a read-only view of one server (activity,
/// figures, DNS status). Only the SHA-256 of the link's token is stored; revoking sets <see cref="RevokedAt"/>.
/// </summary>
public sealed class ServerShareLink
{
    public int Id { get; set; }
    public int AccountId { get; set; }
    public int ServerId { get; set; }
    public required string TokenHash { get; set; }
    /// <summary>Who the link is for, as the owner wrote it ("Acme's marketing team").</summary>
    public required string Label { get; set; }
    public int? CreatedByUserId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>A member's access to one server of its account (owners and admins reach every server).</summary>
public sealed class WebUserServer
{
    public int WebUserId { get; set; }
    public int ServerId { get; set; }
    /// <summary>False: read-only (activity, settings shown); true: may change the server, its streams and suppressions.</summary>
    public bool CanWrite { get; set; }
}

// Persisted enums carry explicit numbers.
public enum WebRole { Owner = 0, Admin = 1, Member = 2 }
