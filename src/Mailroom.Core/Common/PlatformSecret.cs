namespace Mailroom.Core;

/// <summary>
/// A secret of the platform itself (not of an account), shared by every node through the database: e.g. the key
/// that signs VERP return paths (<see cref="Events.VerpKeyring"/>). The value is kept encrypted with Data Protection
/// (<see cref="Secrets.ProtectKey"/>), like DKIM private keys. One row per name: the unique index is what lets nodes
/// that start at once agree on one value (the first insert wins, the others read it back).
/// </summary>
public sealed class PlatformSecret
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string ProtectedValue { get; set; }
    public DateTime CreatedAt { get; set; }
}
