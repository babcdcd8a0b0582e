using System.Globalization;

namespace Mailroom.Core.Queue;

/// <summary>
/// The Details of a message event (stored as JSON with the event, shown by the Messages API as
/// <c>MessageEvents[].Details</c>, spec §6, and read back by the webhook outbox): one method per kind of event, so each
/// key is written in one place. Values are strings, as Postmark's are.
/// </summary>
public static class EventDetails
{
    public const string BounceIdKey = "BounceID";
    public const string DeliveryMessageKey = "DeliveryMessage";

    /// <summary>The recipient's server accepted the message.</summary>
    public static Dictionary<string, string> Delivered(string reply, string host, string ip, string? tlsProtocol, bool? tlsCertificateValid) => new()
    {
        [DeliveryMessageKey] = reply,
        ["DestinationServer"] = host,
        ["DestinationIP"] = ip,
        ["TlsProtocol"] = tlsProtocol ?? "",
        ["TlsCertificateVerified"] = tlsCertificateValid is { } valid ? (valid ? "True" : "False") : "",
    };

    /// <summary>A transient failure; the next attempt is scheduled.</summary>
    public static Dictionary<string, string> Deferred(string reply, string host, string ip, DateTimeOffset nextAttempt) => new()
    {
        [DeliveryMessageKey] = reply,
        ["DestinationServer"] = host,
        ["DestinationIP"] = ip,
        ["NextAttemptAt"] = nextAttempt.ToString("o"),
    };

    /// <summary>A bounce: delivery gave up or was refused, or the message failed before delivery. Its BounceID is set by
    /// <see cref="SetBounce"/> once the bounce row has its ID, and stays "" when there is none.</summary>
    public static Dictionary<string, string> Bounced(string summary, string? reply = null, string? host = null, string? ip = null)
    {
        var details = new Dictionary<string, string> { ["Summary"] = summary };
        if (reply is not null)
            details[DeliveryMessageKey] = reply;
        if (host is not null)
            details["DestinationServer"] = host;
        if (ip is not null)
            details["DestinationIP"] = ip;
        details[BounceIdKey] = "";
        return details;
    }

    /// <summary>A bounce or complaint report that did not come to the message's signed return path: told to the
    /// sender, nothing suppressed.</summary>
    public static Dictionary<string, string> UnverifiedReport(string summary) => new()
    {
        ["Summary"] = summary,
        [BounceIdKey] = "",
        ["Verified"] = "False",
    };

    /// <summary>The recipient's own act (a bounce, a complaint, an unsubscribe) suppressed the address.</summary>
    public static Dictionary<string, string> SuppressedByRecipient(string reason) => new()
    {
        ["Origin"] = "Recipient",
        ["SuppressSending"] = "True",
        ["SuppressionReason"] = reason,
    };

    public static void SetBounce(Dictionary<string, string> details, long bounceId) =>
        details[BounceIdKey] = bounceId.ToString(CultureInfo.InvariantCulture);
}
