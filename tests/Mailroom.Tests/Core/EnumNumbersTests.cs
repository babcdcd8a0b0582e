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
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 30, 31],
            Enum.GetValues<Mailroom.Core.Stats.StatsMetric>().Select(v => (int)v));
        Assert.Equal(["Other", "Gmail", "Microsoft", "Yahoo", "Apple"], Enum.GetNames<Mailroom.Core.Stats.MailboxProvider>());
    }
}
