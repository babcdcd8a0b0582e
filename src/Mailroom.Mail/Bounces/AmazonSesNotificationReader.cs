using System.Text.Json;
using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Reads Amazon SES notifications delivered by email (SNS email subscriptions): a JSON object with
/// <c>notificationType</c> (or <c>eventType</c>) <c>Bounce</c>, <c>Complaint</c> or <c>Delivery</c>, and a
/// <c>mail</c> object describing the original message. These are not RFC 3464/5965 reports, but they are
/// how SES relays bounces and complaints, so Mailroom understands them.
/// </summary>
internal static partial class AmazonSesNotificationReader
{
    private const int MaxJsonChars = 256 * 1024;

    public static BounceReport? TryRead(string text, string? returnedTo, string? subject)
    {
        var start = text.IndexOf('{');
        // In an SNS envelope the SES object is a JSON string, so its keys appear escaped (\"notificationType\").
        if (start < 0 || !text.Contains("notificationType\\\"", StringComparison.Ordinal) && !text.Contains("notificationType\"", StringComparison.Ordinal)
            && !text.Contains("eventType\"", StringComparison.Ordinal) && !text.Contains("eventType\\\"", StringComparison.Ordinal))
            return null;
        var end = text.LastIndexOf('}');
        if (end <= start)
            return null;
        var json = text[start..(end + 1)];
        if (json.Length > MaxJsonChars)
            return null;
        // sendmail splits over-long lines with "!" + newline + space (sendmail's L= line limit); undo that.
        json = LineSplit().Replace(json, "");
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32, AllowTrailingCommas = true });
            var root = doc.RootElement;
            // SNS envelope: {"Type":"Notification","Message":"{...}"}
            if (root.ValueKind == JsonValueKind.Object && Str(root, "Message") is { } inner && inner.TrimStart().StartsWith('{'))
                return TryRead(inner, returnedTo, subject);
            return Read(root, returnedTo, subject);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static BounceReport? Read(JsonElement root, string? returnedTo, string? subject)
    {
        if (root.ValueKind != JsonValueKind.Object)
            return null;
        var kind = Str(root, "notificationType") ?? Str(root, "eventType");
        var original = root.TryGetProperty("mail", out var mail) ? ReadMail(mail) : null;
        switch (kind)
        {
            case "Bounce" when root.TryGetProperty("bounce", out var bounce):
            {
                var bounceType = Str(bounce, "bounceType");
                var subType = Str(bounce, "bounceSubType");
                var recipients = new List<BouncedRecipient>();
                foreach (var r in Array(bounce, "bouncedRecipients"))
                {
                    var email = Str(r, "emailAddress");
                    if (email is null)
                        continue;
                    var (diagType, diagText) = SmtpReplyText.SplitTyped(Str(r, "diagnosticCode"));
                    var status = Str(r, "status");
                    var code = SmtpReplyText.FindSmtpCode(diagText);
                    var action = Str(r, "action")?.ToLowerInvariant() ?? (bounceType == "Transient" ? "delayed" : "failed");
                    var type = diagText.Length > 0 || status is not null
                        ? SmtpReplyClassifier.Classify(code ?? 0, EnhancedStatusCode.TryParse(status, out var s) ? s : null, [diagText, subType])
                        : BySubType(bounceType, subType);
                    if (type == BounceType.Unknown)
                        type = BySubType(bounceType, subType);
                    recipients.Add(new BouncedRecipient
                    {
                        Email = email,
                        Action = action,
                        Status = status,
                        SmtpCode = code,
                        Diagnostic = diagText.Length > 0 ? SmtpReplyText.Tidy(diagText) : subType,
                        DiagnosticType = diagType,
                        RemoteMta = SmtpReplyText.SplitTyped(Str(bounce, "remoteMtaIp")).Value is { Length: > 0 } ip ? ip : null,
                        Type = type,
                        Suppress = type.SuppressesRecipient,
                    });
                }
                return new BounceReport
                {
                    Kind = BounceReportKind.AmazonSesNotification,
                    Type = recipients.FirstOrDefault()?.Type ?? BySubType(bounceType, subType),
                    Recipients = recipients,
                    ReportingMta = SmtpReplyText.SplitTyped(Str(bounce, "reportingMTA")).Value is { Length: > 0 } mta ? mta : null,
                    Original = original,
                    ReturnedTo = returnedTo,
                    Subject = subject,
                };
            }
            case "Complaint" when root.TryGetProperty("complaint", out var complaint):
            {
                var feedbackType = Str(complaint, "complaintFeedbackType")?.ToLowerInvariant() ?? "abuse";
                var recipients = Array(complaint, "complainedRecipients")
                    .Select(r => Str(r, "emailAddress"))
                    .OfType<string>()
                    .Select(email => new BouncedRecipient
                    {
                        Email = email,
                        Type = BounceType.SpamComplaint,
                        Suppress = true,
                        Diagnostic = Str(complaint, "userAgent"),
                    })
                    .ToList();
                return new BounceReport
                {
                    Kind = BounceReportKind.AmazonSesNotification,
                    Type = BounceType.SpamComplaint,
                    Recipients = recipients,
                    FeedbackType = feedbackType,
                    Original = original,
                    ReturnedTo = returnedTo,
                    Subject = subject,
                };
            }
            case "Delivery" when root.TryGetProperty("delivery", out var delivery):
            {
                var response = Str(delivery, "smtpResponse");
                var recipients = Array(delivery, "recipients")
                    .Where(r => r.ValueKind == JsonValueKind.String)
                    .Select(r => new BouncedRecipient
                    {
                        Email = r.GetString()!,
                        Action = "delivered",
                        Status = EnhancedStatusCode.Find(response)?.ToString(),
                        SmtpCode = SmtpReplyText.FindSmtpCode(response),
                        Diagnostic = response,
                        Type = BounceType.Unknown,
                        Suppress = false,
                    })
                    .ToList();
                return new BounceReport
                {
                    Kind = BounceReportKind.AmazonSesNotification,
                    Type = BounceType.Unknown,
                    Recipients = recipients,
                    ReportingMta = Str(delivery, "reportingMTA"),
                    Original = original,
                    ReturnedTo = returnedTo,
                    Subject = subject,
                };
            }
            default:
                return null;
        }
    }

    /// <summary>SES bounce types and subtypes, for recipients without a diagnostic.</summary>
    private static BounceType BySubType(string? bounceType, string? subType) => (bounceType, subType) switch
    {
        (_, "MailboxFull" or "MessageTooLarge") => BounceType.SoftBounce,
        (_, "ContentRejected" or "AttachmentRejected") => BounceType.Blocked,
        ("Permanent", "NoEmail" or "General" or "Suppressed" or "OnAccountSuppressionList") => BounceType.HardBounce,
        ("Transient", _) => BounceType.Transient,
        _ => BounceType.Unknown,
    };

    private static OriginalMessage ReadMail(JsonElement mail)
    {
        var headers = new List<MessageHeader>();
        foreach (var h in Array(mail, "headers"))
        {
            if (headers.Count >= 500)
                break;
            if (Str(h, "name") is { } name)
                headers.Add(new MessageHeader(name, Str(h, "value") ?? ""));
        }
        string? Header(string name) => headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value;
        mail.TryGetProperty("commonHeaders", out var common);
        var to = common.ValueKind == JsonValueKind.Object ? Array(common, "to").Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList() : [];
        if (to.Count == 0)
            to = [.. Array(mail, "destination").Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)];
        var from = common.ValueKind == JsonValueKind.Object ? Array(common, "from").Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).FirstOrDefault() : null;
        return new OriginalMessage
        {
            MessageId = OriginalMessageReader.CleanId(Header("Message-ID") ?? (common.ValueKind == JsonValueKind.Object ? Str(common, "messageId") : null)),
            PostmarkMessageId = Header("X-PM-Message-Id"),
            Subject = Header("Subject") ?? (common.ValueKind == JsonValueKind.Object ? Str(common, "subject") : null),
            From = from ?? Str(mail, "source"),
            To = to,
            ReturnPath = Str(mail, "source"),
            Headers = headers,
        };
    }

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Take(1000)
            : [];

    [GeneratedRegex(@"!\r?\n[ \t]", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex LineSplit();
}
