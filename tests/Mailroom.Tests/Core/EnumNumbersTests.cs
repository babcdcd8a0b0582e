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
        Assert.Equal([0, 1, 2, 3, 4, 5], Enum.GetValues<Mailroom.Core.Inbound.InboundStatus>().Select(v => (int)v));
        Assert.Equal(["Received", "Queued", "Processed", "Blocked", "Failed", "Scheduled"], Enum.GetNames<Mailroom.Core.Inbound.InboundStatus>());
    }
}
