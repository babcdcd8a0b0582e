using Mailroom.Core.Accounts;
using Xunit;

namespace Mailroom.Tests.Core;

/// <summary>Persisted enums are stored as numbers: changing one would silently rewrite stored data.</summary>
public sealed class EnumNumbersTests
{
    [Fact]
    public void PersistedEnumNumbersAreFrozen()
    {
        Assert.Equal([0, 1], Enum.GetValues<DeliveryType>().Select(v => (int)v));
        Assert.Equal(["Live", "Sandbox"], Enum.GetNames<DeliveryType>());
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<LinkTracking>().Select(v => (int)v));
        Assert.Equal(["None", "HtmlAndText", "HtmlOnly", "TextOnly"], Enum.GetNames<LinkTracking>());
        Assert.Equal([0, 1, 2], Enum.GetValues<MessageStreamType>().Select(v => (int)v));
        Assert.Equal(["Transactional", "Inbound", "Broadcasts"], Enum.GetNames<MessageStreamType>());
        Assert.Equal([0, 1, 2], Enum.GetValues<UnsubscribeHandlingType>().Select(v => (int)v));
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Mailroom.Core.Events.InboundReportState>().Select(v => (int)v));
        Assert.Equal(["Pending", "Processed", "Unmatched", "Failed"], Enum.GetNames<Mailroom.Core.Events.InboundReportState>());
        Assert.Equal([0, 1, 2], Enum.GetValues<WebRole>().Select(v => (int)v));
        Assert.Equal(["Owner", "Admin", "Member"], Enum.GetNames<WebRole>());
        // Tracking (engagement_events, tracked_links); the names are also Postmark's API values (Platform, ClickLocation).
        Assert.Equal([0, 1], Enum.GetValues<Mailroom.Core.Tracking.EngagementKind>().Select(v => (int)v));
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Mailroom.Mail.Tracking.EngagementPlatform>().Select(v => (int)v));
        Assert.Equal(["Unknown", "Desktop", "WebMail", "Mobile"], Enum.GetNames<Mailroom.Mail.Tracking.EngagementPlatform>());
        Assert.Equal([0, 1], Enum.GetValues<Mailroom.Mail.Tracking.LinkLocation>().Select(v => (int)v));
        Assert.Equal(["HTML", "Text"], Enum.GetNames<Mailroom.Mail.Tracking.LinkLocation>());
        Assert.Equal([0, 1, 2, 3, 4, 5], Enum.GetValues<Mailroom.Core.Inbound.InboundStatus>().Select(v => (int)v));
        Assert.Equal(["Received", "Queued", "Processed", "Blocked", "Failed", "Scheduled"], Enum.GetNames<Mailroom.Core.Inbound.InboundStatus>());
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 30, 31],
            Enum.GetValues<Mailroom.Core.Stats.StatsMetric>().Select(v => (int)v));
        Assert.Equal(["Other", "Gmail", "Microsoft", "Yahoo", "Apple"], Enum.GetNames<Mailroom.Core.Stats.MailboxProvider>());
    }
}
