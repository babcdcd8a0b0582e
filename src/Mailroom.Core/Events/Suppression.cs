namespace Mailroom.Core.Events;

/// <summary>An inactive recipient of one stream of one server (spec §7): mail to it is not sent.</summary>
public sealed class Suppression
{
    public long Id { get; set; }
    public int ServerId { get; set; }
    public string Stream { get; set; } = Mailroom.Contracts.DefaultStreams.Outbound;
    /// <summary>Lower-case address.</summary>
    public string Email { get; set; } = "";
    public SuppressionReason Reason { get; set; }
    public SuppressionOrigin Origin { get; set; }
    public long CreatedAt { get; set; }
}

// Persisted enums carry explicit numbers; EnumNumbersTests freezes them.
public enum SuppressionReason { HardBounce = 0, SpamComplaint = 1, ManualSuppression = 2 }

public enum SuppressionOrigin { Recipient = 0, Customer = 1, Admin = 2 }
