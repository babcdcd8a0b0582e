namespace Mailroom.Core.Stats;

/// <summary>
/// One counter of the Stats API: how many times <see cref="Metric"/> (with its <see cref="Key"/>, such as a bounce
/// type or an email client) happened for one server, stream, tag, recipient mailbox provider and day. Counters are
/// added to in the transaction of the event they count (<see cref="StatsCounters"/>), so a stats query reads a few
/// rows per day whatever the number of messages.
/// </summary>
public sealed class StatsCounter
{
    public int ServerId { get; set; }
    /// <summary>A roll-up over every tag (its <see cref="Tag"/> is empty): each increment is added to its tag's row and to
    /// this one, so a query without a tag reads one row per day, stream, provider and key however many tags there are.</summary>
    public bool AllTags { get; set; }
    public string Stream { get; set; } = "";
    /// <summary>The message's tag; empty when it has none (and on <see cref="AllTags"/> rows).</summary>
    public string Tag { get; set; } = "";
    /// <summary>The day in the stats calendar (<see cref="StatsCalendar"/>) as yyyymmdd, so ranges compare as numbers.</summary>
    public int Day { get; set; }
    public StatsMetric Metric { get; set; }
    /// <summary>The breakdown key of metrics that have one (bounce type, platform, client, browser family, read-time
    /// bucket, link location, country); empty otherwise.</summary>
    public string Key { get; set; } = "";
    public MailboxProvider Provider { get; set; }
    public long Count { get; set; }
}

// Persisted enums carry explicit numbers; EnumNumbersTests freezes them.
/// <summary>What a counter counts. Stats count per recipient, as Postmark does (spec §9).</summary>
public enum StatsMetric
{
    /// <summary>A recipient of a prepared message (sent), at Preparation.</summary>
    Sent = 0,
    /// <summary>A bounce; Key = the bounce type name (<c>HardBounce</c>, <c>SoftBounce</c>, <c>Transient</c>, ...).</summary>
    Bounced = 1,
    /// <summary>A spam complaint (ARF report).</summary>
    SpamComplaint = 2,
    /// <summary>A recipient's server accepted the message.</summary>
    Delivered = 3,
    /// <summary>A recipient of a message with open or link tracking, at Preparation.</summary>
    Tracked = 4,
    WithOpenTracking = 5,
    WithLinkTracking = 6,
    /// <summary>Links rewritten for tracking (fed by the tracking code at Preparation).</summary>
    TrackedLinksSent = 7,
    /// <summary>Every open (first and later).</summary>
    Opened = 10,
    /// <summary>A recipient's first open of a message.</summary>
    UniqueOpen = 11,
    /// <summary>Key = Desktop, WebMail, Mobile or Unknown.</summary>
    OpenPlatform = 12,
    /// <summary>Key = email client family.</summary>
    OpenClient = 13,
    /// <summary>Key = read-time bucket (seconds, as the tracking code buckets them).</summary>
    OpenReadTime = 14,
    /// <summary>Key = country (when a GeoIP database is configured).</summary>
    OpenCountry = 15,
    /// <summary>Every click.</summary>
    Clicked = 20,
    /// <summary>A recipient's first click of a given link.</summary>
    UniqueClick = 21,
    /// <summary>Key = browser family.</summary>
    ClickBrowser = 22,
    /// <summary>Key = Desktop, Mobile or Unknown.</summary>
    ClickPlatform = 23,
    /// <summary>Key = HTML or Text: where the clicked link was.</summary>
    ClickLocation = 24,
    ClickCountry = 25,
    /// <summary>Opens and clicks by machines (image proxies, link scanners), Mailroom only; they are also in the
    /// totals above.</summary>
    MachineOpen = 30,
    MachineClick = 31,
}

/// <summary>The recipient's mailbox provider (Mailroom only, beyond Postmark): by the recipient's domain, and for
/// deliveries and bounces during SMTP by the MX host that answered (a company domain hosted by Google or Microsoft).</summary>
public enum MailboxProvider { Other = 0, Gmail = 1, Microsoft = 2, Yahoo = 3, Apple = 4 }
