using Mailroom.Core.Accounts;

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
        Assert.Equal([0, 1, 2, 3, 4], Enum.GetValues<Mailroom.Core.Stats.MailboxProvider>().Select(v => (int)v));
    }

    [Fact]
    public void QueueEventWebhookAndKeyEnumNumbersAreFrozen()
    {
        // The queue: message status and stage, delivery state, message event type.
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Mailroom.Core.Queue.MessageStatus>().Select(v => (int)v));
        Assert.Equal(["Queued", "Sent", "Processed", "Failed"], Enum.GetNames<Mailroom.Core.Queue.MessageStatus>());
        Assert.Equal([0, 1, 2], Enum.GetValues<Mailroom.Core.Queue.MessageStage>().Select(v => (int)v));
        Assert.Equal(["Accepted", "Prepared", "Failed"], Enum.GetNames<Mailroom.Core.Queue.MessageStage>());
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Mailroom.Core.Queue.DeliveryState>().Select(v => (int)v));
        Assert.Equal(["Pending", "Delivered", "Failed", "Held"], Enum.GetNames<Mailroom.Core.Queue.DeliveryState>());
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], Enum.GetValues<Mailroom.Core.Queue.MessageEventType>().Select(v => (int)v));
        Assert.Equal(["Queued", "Delivered", "Transient", "Bounced", "Opened", "LinkClicked", "SubscriptionChanged"],
            Enum.GetNames<Mailroom.Core.Queue.MessageEventType>());
        // Suppressions: reason and origin.
        Assert.Equal([0, 1, 2], Enum.GetValues<Mailroom.Core.Events.SuppressionReason>().Select(v => (int)v));
        Assert.Equal(["HardBounce", "SpamComplaint", "ManualSuppression"], Enum.GetNames<Mailroom.Core.Events.SuppressionReason>());
        Assert.Equal([0, 1, 2], Enum.GetValues<Mailroom.Core.Events.SuppressionOrigin>().Select(v => (int)v));
        Assert.Equal(["Recipient", "Customer", "Admin"], Enum.GetNames<Mailroom.Core.Events.SuppressionOrigin>());
        // Bounces: the type is Postmark's own type codes (the API's TypeCode), so also a wire value.
        Assert.Equal([1, 2, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 100000, 100001, 100002, 100003, 100006, 100007, 100008, 100009, 100010],
            Enum.GetValues<Mailroom.Mail.Bounces.BounceType>().Select(v => (int)v));
        Assert.Equal(["HardBounce", "Transient", "Unsubscribe", "Subscribe", "AutoResponder", "AddressChange", "DnsError", "SpamNotification",
            "OpenRelayTest", "Unknown", "SoftBounce", "VirusNotification", "ChallengeVerification", "BadEmailAddress", "SpamComplaint",
            "ManuallyDeactivated", "Unconfirmed", "Blocked", "SMTPApiError", "InboundError", "DMARCPolicy", "TemplateRenderingFailed"],
            Enum.GetNames<Mailroom.Mail.Bounces.BounceType>());
        // Webhook delivery state, DKIM key state, a stream's unsubscribe handling.
        Assert.Equal([0, 1, 2, 3], Enum.GetValues<Mailroom.Core.Webhooks.WebhookDeliveryState>().Select(v => (int)v));
        Assert.Equal(["Pending", "Delivered", "Dropped", "Failed"], Enum.GetNames<Mailroom.Core.Webhooks.WebhookDeliveryState>());
        Assert.Equal([0, 1, 2], Enum.GetValues<Mailroom.Core.Identities.DkimKeyState>().Select(v => (int)v));
        Assert.Equal(["Pending", "Active", "Revoked"], Enum.GetNames<Mailroom.Core.Identities.DkimKeyState>());
        Assert.Equal(["None", "Postmark", "Custom"], Enum.GetNames<UnsubscribeHandlingType>());
    }
}
