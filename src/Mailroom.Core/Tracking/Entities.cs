using Mailroom.Mail.Tracking;

namespace Mailroom.Core.Tracking;

/// <summary>
/// The signed copy of a message for one recipient other than the first, when tracking makes copies differ (each
/// carries its own tracking tokens). Written by Preparation in the commit that stores the message; never changed;
/// Delivery sends it byte for byte instead of the message's <c>Mime</c> (recipient 0's copy).
/// </summary>
public sealed class TrackedCopy
{
    public Guid MessageId { get; set; }
    public int RecipientIndex { get; set; }
    public byte[] Mime { get; set; } = [];
}

/// <summary>A link of a tracked message as written: the only URL a click token of that message may redirect to.</summary>
public sealed class TrackedLinkRecord
{
    public Guid MessageId { get; set; }
    public int LinkIndex { get; set; }
    public string Url { get; set; } = "";
    public LinkLocation Location { get; set; }
}

// Persisted enums carry explicit numbers.
public enum EngagementKind { Open = 0, Click = 1 }

/// <summary>One open (pixel fetch) or click of one recipient: what the opens and clicks endpoints list.</summary>
public sealed class EngagementEvent
{
    public long Id { get; set; }
    public int ServerId { get; set; }
    public Guid MessageId { get; set; }
    public string Stream { get; set; } = "";
    public string Tag { get; set; } = "";
    public string Recipient { get; set; } = "";
    public EngagementKind Kind { get; set; }
    /// <summary>Unix milliseconds.</summary>
    public long At { get; set; }
    /// <summary>Opens: the recipient's first open of the message.</summary>
    public bool FirstOpen { get; set; }
    public string UserAgent { get; set; } = "";
    public EngagementPlatform Platform { get; set; }
    public string ClientName { get; set; } = "";
    public string ClientCompany { get; set; } = "";
    public string ClientFamily { get; set; } = "";
    public string OsName { get; set; } = "";
    public string OsCompany { get; set; } = "";
    public string OsFamily { get; set; } = "";
    public string Ip { get; set; } = "";
    public string CountryIsoCode { get; set; } = "";
    public string Country { get; set; } = "";
    public string RegionIsoCode { get; set; } = "";
    public string Region { get; set; } = "";
    public string City { get; set; } = "";
    public string Zip { get; set; } = "";
    public string Coords { get; set; } = "";
    /// <summary>Clicks: where the link was and the URL it led to.</summary>
    public LinkLocation ClickLocation { get; set; }
    public string OriginalLink { get; set; } = "";
    /// <summary>Mailroom's own flag: an image proxy's prefetch, Apple's privacy prefetch, a link scanner (see
    /// <see cref="EngagementRecorder"/>). Kept and listed, marked.</summary>
    public bool Machine { get; set; }
    /// <summary>Opens: whole seconds the image stayed open in the mail client (see <see cref="ReadTime"/>); null when
    /// not measured (read-time measuring off, a proxy or prefetch, a client that closed nothing we could see).</summary>
    public int? ReadSeconds { get; set; }
}
