namespace Mailroom.Mail.Bounces;

/// <summary>
/// Postmark's bounce types. The numeric value of each member is Postmark's <c>TypeCode</c>, and the
/// member name is Postmark's <c>Type</c> string, so <c>type.ToString()</c> and <c>(int)type</c> can be
/// put on the wire unchanged. The numbers are frozen by a test: never renumber.
/// </summary>
public enum BounceType
{
    HardBounce = 1,
    Transient = 2,
    Unsubscribe = 16,
    Subscribe = 32,
    AutoResponder = 64,
    AddressChange = 128,
    DnsError = 256,
    SpamNotification = 512,
    OpenRelayTest = 1024,
    Unknown = 2048,
    SoftBounce = 4096,
    VirusNotification = 8192,
    ChallengeVerification = 16384,
    BadEmailAddress = 100000,
    SpamComplaint = 100001,
    ManuallyDeactivated = 100002,
    Unconfirmed = 100003,
    Blocked = 100006,
    SMTPApiError = 100007,
    InboundError = 100008,
    DMARCPolicy = 100009,
    TemplateRenderingFailed = 100010,
}

/// <summary>Labels, descriptions and suppression rules of <see cref="BounceType"/>.</summary>
public static class BounceTypeInfo
{
    extension(BounceType type)
    {
        /// <summary>Postmark's <c>TypeCode</c>.</summary>
        public int TypeCode => (int)type;

        /// <summary>Short human label, as Postmark shows it (<c>Name</c> in the bounce API).</summary>
        public string Name => type switch
        {
            BounceType.HardBounce => "Hard bounce",
            BounceType.Transient => "Message delayed/Undeliverable",
            BounceType.Unsubscribe => "Unsubscribe request",
            BounceType.Subscribe => "Subscribe request",
            BounceType.AutoResponder => "Auto responder",
            BounceType.AddressChange => "Address change",
            BounceType.DnsError => "DNS error",
            BounceType.SpamNotification => "Spam notification",
            BounceType.OpenRelayTest => "Open relay test",
            BounceType.Unknown => "Unknown",
            BounceType.SoftBounce => "Soft bounce",
            BounceType.VirusNotification => "Virus notification",
            BounceType.ChallengeVerification => "Spam challenge verification",
            BounceType.BadEmailAddress => "Invalid email address",
            BounceType.SpamComplaint => "Spam complaint",
            BounceType.ManuallyDeactivated => "Manually deactivated",
            BounceType.Unconfirmed => "Registration not confirmed",
            BounceType.Blocked => "ISP block",
            BounceType.SMTPApiError => "SMTP API error",
            BounceType.InboundError => "Processing failed",
            BounceType.DMARCPolicy => "DMARC Policy",
            BounceType.TemplateRenderingFailed => "Template rendering failed",
            _ => "Unknown",
        };

        /// <summary>One-sentence description, as Postmark documents the type.</summary>
        public string Description => type switch
        {
            BounceType.HardBounce => "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
            BounceType.Transient => "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).",
            BounceType.Unsubscribe => "Unsubscribe or Remove request.",
            BounceType.Subscribe => "Subscribe request from someone wanting to get added to the mailing list.",
            BounceType.AutoResponder => "\"Autoresponder\" is an automatic email responder including nondescript NDRs and some \"out of office\" replies.",
            BounceType.AddressChange => "The recipient has requested an address change.",
            BounceType.DnsError => "A temporary DNS error.",
            BounceType.SpamNotification => "The message was delivered, but was either blocked by the user, or classified as spam, bulk mail, or had rejected content.",
            BounceType.OpenRelayTest => "The NDR is actually a test email message to see if the mail server is an open relay.",
            BounceType.Unknown => "Unable to classify the NDR.",
            BounceType.SoftBounce => "Unable to temporarily deliver message (i.e. mailbox full, account disabled, exceeds quota, out of disk space).",
            BounceType.VirusNotification => "The bounce is actually a virus notification warning about a virus/code infected message.",
            BounceType.ChallengeVerification => "The bounce is a challenge asking for verification you actually sent the email. Typical challenges are made by Spam Arrest, or MailFrontier Matador.",
            BounceType.BadEmailAddress => "The address is not a valid email address.",
            BounceType.SpamComplaint => "The subscriber explicitly marked this email as spam.",
            BounceType.ManuallyDeactivated => "The email was manually deactivated.",
            BounceType.Unconfirmed => "The subscriber has not clicked on the confirmation link upon registration or import.",
            BounceType.Blocked => "Blocked from this ISP due to content or blacklisting.",
            BounceType.SMTPApiError => "An error occurred while accepting an email through the SMTP API.",
            BounceType.InboundError => "Unable to deliver inbound message to destination inbound hook.",
            BounceType.DMARCPolicy => "Email rejected due DMARC Policy.",
            BounceType.TemplateRenderingFailed => "An error occurred while rendering your template.",
            _ => "Unable to classify the NDR.",
        };

        /// <summary>
        /// True when a bounce of this type should deactivate (suppress) the recipient address, as
        /// Postmark does: hard bounces, spam complaints, invalid addresses and manual deactivation.
        /// Temporary conditions (Transient, SoftBounce, DnsError), blocks that are about the sender
        /// (Blocked, DMARCPolicy, SpamNotification) and auto-replies never suppress.
        /// </summary>
        public bool SuppressesRecipient => type is BounceType.HardBounce or BounceType.SpamComplaint
            or BounceType.BadEmailAddress or BounceType.ManuallyDeactivated;
    }
}
