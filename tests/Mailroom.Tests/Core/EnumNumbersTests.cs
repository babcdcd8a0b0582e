using Mailroom.Core.Accounts;

namespace Mailroom.Tests.Core;

/// <summary>Persisted enums are stored as numbers: changing one would silently rewrite stored data.</summary>
public sealed class EnumNumbersTests
{
    [Fact]
    public void PersistedEnumNumbersAreFrozen()
    {
        EnumAssert.Frozen<DeliveryType>([0, 1], ["Live", "Sandbox"]);
        EnumAssert.Frozen<LinkTracking>([0, 1, 2, 3], ["None", "HtmlAndText", "HtmlOnly", "TextOnly"]);
        EnumAssert.Frozen<MessageStreamType>([0, 1, 2], ["Transactional", "Inbound", "Broadcasts"]);
        EnumAssert.Frozen<UnsubscribeHandlingType>([0, 1, 2]);
        EnumAssert.Frozen<Mailroom.Core.Events.InboundReportState>([0, 1, 2, 3], ["Pending", "Processed", "Unmatched", "Failed"]);
        EnumAssert.Frozen<WebRole>([0, 1, 2], ["Owner", "Admin", "Member"]);
        // Tracking (engagement_events, tracked_links); the names are also Postmark's API values (Platform, ClickLocation).
        EnumAssert.Frozen<Mailroom.Core.Tracking.EngagementKind>([0, 1]);
        EnumAssert.Frozen<Mailroom.Mail.Tracking.EngagementPlatform>([0, 1, 2, 3], ["Unknown", "Desktop", "WebMail", "Mobile"]);
        EnumAssert.Frozen<Mailroom.Mail.Tracking.LinkLocation>([0, 1], ["HTML", "Text"]);
        EnumAssert.Frozen<Mailroom.Core.Inbound.InboundStatus>([0, 1, 2, 3, 4, 5], ["Received", "Queued", "Processed", "Blocked", "Failed", "Scheduled"]);
        EnumAssert.Frozen<Mailroom.Core.Stats.StatsMetric>([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 30, 31]);
        EnumAssert.Frozen<Mailroom.Core.Stats.MailboxProvider>([0, 1, 2, 3, 4], ["Other", "Gmail", "Microsoft", "Yahoo", "Apple"]);
    }

    [Fact]
    public void QueueEventWebhookAndKeyEnumNumbersAreFrozen()
    {
        // The queue: message status and stage, delivery state, message event type.
        EnumAssert.Frozen<Mailroom.Core.Queue.MessageStatus>([0, 1, 2, 3], ["Queued", "Sent", "Processed", "Failed"]);
        EnumAssert.Frozen<Mailroom.Core.Queue.MessageStage>([0, 1, 2], ["Accepted", "Prepared", "Failed"]);
        EnumAssert.Frozen<Mailroom.Core.Queue.DeliveryState>([0, 1, 2, 3], ["Pending", "Delivered", "Failed", "Held"]);
        EnumAssert.Frozen<Mailroom.Core.Queue.MessageEventType>([0, 1, 2, 3, 4, 5, 6],
            ["Queued", "Delivered", "Transient", "Bounced", "Opened", "LinkClicked", "SubscriptionChanged"]);
        // Suppressions: reason and origin.
        EnumAssert.Frozen<Mailroom.Core.Events.SuppressionReason>([0, 1, 2], ["HardBounce", "SpamComplaint", "ManualSuppression"]);
        EnumAssert.Frozen<Mailroom.Core.Events.SuppressionOrigin>([0, 1, 2], ["Recipient", "Customer", "Admin"]);
        // Bounces: the type is Postmark's own type codes (the API's TypeCode), so also a wire value.
        EnumAssert.Frozen<Mailroom.Mail.Bounces.BounceType>(
            [1, 2, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 100000, 100001, 100002, 100003, 100006, 100007, 100008, 100009, 100010],
            ["HardBounce", "Transient", "Unsubscribe", "Subscribe", "AutoResponder", "AddressChange", "DnsError", "SpamNotification",
            "OpenRelayTest", "Unknown", "SoftBounce", "VirusNotification", "ChallengeVerification", "BadEmailAddress", "SpamComplaint",
            "ManuallyDeactivated", "Unconfirmed", "Blocked", "SMTPApiError", "InboundError", "DMARCPolicy", "TemplateRenderingFailed"]);
        // Webhook delivery state, DKIM key state, a stream's unsubscribe handling.
        EnumAssert.Frozen<Mailroom.Core.Webhooks.WebhookDeliveryState>([0, 1, 2, 3], ["Pending", "Delivered", "Dropped", "Failed"]);
        EnumAssert.Frozen<Mailroom.Core.Identities.DkimKeyState>([0, 1, 2], ["Pending", "Active", "Revoked"]);
        Assert.Equal(["None", "Postmark", "Custom"], Enum.GetNames<UnsubscribeHandlingType>());
    }
}
