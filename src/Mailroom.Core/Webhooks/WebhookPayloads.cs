using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mailroom.Core.Events;
using Mailroom.Mail.Bounces;

namespace Mailroom.Core.Webhooks;

/// <summary>
/// The JSON bodies of spec §10.5, one per RecordType, with Postmark's field names (<c>ServerID</c>, not
/// <c>ServerId</c>) and UTC ISO 8601 times.
/// </summary>
public static class WebhookPayloads
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonObject Delivery(int serverId, string stream, Guid messageId, string recipient, string tag, DateTimeOffset at,
        string details, JsonObject metadata) => new()
    {
        ["RecordType"] = "Delivery",
        ["ServerID"] = serverId,
        ["MessageStream"] = stream,
        ["MessageID"] = messageId.ToString(),
        ["Recipient"] = recipient,
        ["Tag"] = tag,
        ["DeliveredAt"] = Time(at),
        ["Details"] = details,
        ["Metadata"] = metadata,
    };

    /// <summary>A Bounce or, for a complaint, a SpamComplaint payload. <c>ID</c> is 0 until the bounce row has its ID
    /// (<see cref="Final"/> puts it in).</summary>
    public static JsonObject Bounce(Bounce b, JsonObject metadata)
    {
        var complaint = b.Type == BounceType.SpamComplaint;
        var o = new JsonObject
        {
            ["RecordType"] = complaint ? "SpamComplaint" : "Bounce",
            ["ID"] = b.Id,
            ["Type"] = b.Type.ToString(),
            ["TypeCode"] = b.Type.TypeCode,
            ["Name"] = b.Type.Name,
            ["Tag"] = b.Tag,
            ["MessageID"] = b.MessageId?.ToString(),
            ["Metadata"] = metadata,
            ["ServerID"] = b.ServerId,
            ["MessageStream"] = b.Stream,
            ["Description"] = b.Type.Description,
            ["Details"] = b.Details,
            ["Email"] = b.Email,
            ["From"] = b.From,
            ["BouncedAt"] = Time(DateTimeOffset.FromUnixTimeMilliseconds(b.BouncedAt)),
            ["DumpAvailable"] = b.Content is not null,
            ["Inactive"] = complaint || b.Inactive,
            ["CanActivate"] = !complaint && b.CanActivate,
            ["Subject"] = b.Subject,
            ["Content"] = b.Content ?? "",
        };
        return o;
    }

    public static JsonObject SubscriptionChange(int serverId, string stream, Guid? messageId, string recipient, DateTimeOffset at,
        string origin, bool suppress, string? reason, string tag, JsonObject metadata) => new()
    {
        ["RecordType"] = "SubscriptionChange",
        ["MessageID"] = messageId?.ToString(),
        ["ServerID"] = serverId,
        ["MessageStream"] = stream,
        ["ChangedAt"] = Time(at),
        ["Recipient"] = recipient,
        ["Origin"] = origin,
        ["SuppressSending"] = suppress,
        ["SuppressionReason"] = reason,
        ["Tag"] = tag,
        ["Metadata"] = metadata,
    };

    public static string Serialize(JsonObject o) => o.ToJsonString(Json);

    public static JsonObject Metadata(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return [];
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>
    /// The body as posted: the bounce's ID put in (it did not exist when the payload was rendered), <c>Content</c>
    /// only when the trigger asks for it.
    /// </summary>
    public static string Final(string payload, long? bounceId, bool includeContent)
    {
        if (bounceId is null && !payload.Contains("\"Content\"", StringComparison.Ordinal))
            return payload;
        var o = JsonNode.Parse(payload)!.AsObject();
        if (bounceId is { } id)
            o["ID"] = id;
        if (!includeContent)
            o.Remove("Content");
        return o.ToJsonString(Json);
    }

    /// <summary><see cref="Final(string, long?, bool)"/> on the stored UTF-8 bytes: the same bytes back when nothing changes
    /// (most events: no bounce ID to put in, no <c>Content</c>), without decoding them.</summary>
    public static byte[] Final(byte[] payloadUtf8, long? bounceId, bool includeContent) =>
        bounceId is null && payloadUtf8.AsSpan().IndexOf("\"Content\""u8) < 0
            ? payloadUtf8
            : System.Text.Encoding.UTF8.GetBytes(Final(System.Text.Encoding.UTF8.GetString(payloadUtf8), bounceId, includeContent));

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
