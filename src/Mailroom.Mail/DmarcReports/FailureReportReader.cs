using System.Globalization;
using System.Net;
using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace Mailroom.Mail.DmarcReports;

/// <summary>
/// A DMARC failure report (RFC 6591 authentication failure reporting on RFC 5965 ARF; RFC 9991), reduced to what
/// monitoring needs: personal data is minimised — addresses are kept as their domains only, and the reported
/// message's subject, recipients and body are never read into the model.
/// </summary>
public sealed record FailureReport
{
    /// <summary>Lower case; <c>auth-failure</c> for DMARC failure reports. Other ARF types (abuse, fraud…) reaching the
    /// reporting address are classified, not refused: see <see cref="IsAuthFailure"/>.</summary>
    public required string FeedbackType { get; init; }
    public bool IsAuthFailure => FeedbackType == "auth-failure";
    /// <summary>RFC 6591 §3.2 Auth-Failure: <c>dmarc</c>, <c>dkim</c>, <c>spf</c>, <c>adsp</c>, <c>bodyhash</c>, <c>revoked</c>, <c>signature</c>.</summary>
    public string? AuthFailure { get; init; }
    public string? UserAgent { get; init; }
    public string? ReportedDomain { get; init; }
    /// <summary>Source-IP without a trailing comment (<c>1.2.3.4 (host)</c> is seen), canonical form.</summary>
    public string? SourceIp { get; init; }
    public DateTimeOffset? ArrivalDate { get; init; }
    /// <summary>Every DKIM-Domain field (several occur).</summary>
    public IReadOnlyList<string> DkimDomains { get; init; } = [];
    public string? DkimSelector { get; init; }
    public string? SpfDns { get; init; }
    public string? IdentityAlignment { get; init; }
    /// <summary>RFC 6591 Delivery-Result, kept as sent (non-standard values such as <c>smg-policy-action</c> occur).</summary>
    public string? DeliveryResult { get; init; }
    /// <summary>Domain of Original-Mail-From (the address itself is personal data).</summary>
    public string? EnvelopeFromDomain { get; init; }
    /// <summary>Domain of the reported message's From header.</summary>
    public string? HeaderFromDomain { get; init; }
}

public static class FailureReportReader
{
    /// <summary>Reads a failure report from a message, or null when the message carries no feedback report
    /// (<c>message/feedback-report</c>, or — as NetEase sends them — a base64 part of another type whose text starts
    /// with ARF fields). Never throws on bad content.</summary>
    public static FailureReport? Read(MimeMessage message)
    {
        HeaderList? fields = null;
        HeaderList? original = null;
        foreach (var part in message.BodyParts)
        {
            switch (part)
            {
                case MessagePart { Message: { } inner }:
                    original ??= inner.Headers;
                    break;
                case MimePart mime when mime.ContentType.IsMimeType("text", "rfc822-headers"):
                    original ??= LoadHeaders(Decode(mime));
                    break;
                case MimePart mime when fields is null && (mime.ContentType.IsMimeType("message", "feedback-report") || LooksLikeArf(mime)):
                    fields = LoadHeaders(Decode(mime));
                    break;
            }
        }
        if (fields?["Feedback-Type"] is not { } type) return null;

        return new FailureReport
        {
            FeedbackType = type.Trim().ToLowerInvariant(),
            AuthFailure = Field(fields, "Auth-Failure")?.ToLowerInvariant(),
            UserAgent = Field(fields, "User-Agent"),
            ReportedDomain = Field(fields, "Reported-Domain")?.ToLowerInvariant().TrimEnd('.'),
            SourceIp = SourceIp(Field(fields, "Source-IP")),
            ArrivalDate = Field(fields, "Arrival-Date") is { } d && DateUtils.TryParse(d, out var date) ? date : null,
            DkimDomains = fields.Where(h => h.Field.Equals("DKIM-Domain", StringComparison.OrdinalIgnoreCase))
                .Select(h => h.Value.Trim().ToLowerInvariant()).Where(v => v.Length > 0).Distinct().ToList(),
            DkimSelector = Field(fields, "DKIM-Selector"),
            SpfDns = Field(fields, "SPF-DNS"),
            IdentityAlignment = Field(fields, "Identity-Alignment")?.ToLowerInvariant(),
            DeliveryResult = Field(fields, "Delivery-Result")?.ToLowerInvariant(),
            EnvelopeFromDomain = DomainOf(Field(fields, "Original-Mail-From")),
            HeaderFromDomain = original?["From"] is { } from && InternetAddressList.TryParse(from, out var list)
                ? list.Mailboxes.FirstOrDefault()?.Domain?.ToLowerInvariant() : null,
        };
    }

    private static string? Field(HeaderList fields, string name) =>
        fields[name] is { } value && value.Trim() is { Length: > 0 } trimmed ? trimmed : null;

    private static string? SourceIp(string? value)
    {
        if (value is null) return null;
        var token = value.Split([' ', '(', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return IPAddress.TryParse(token, out var ip) ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : null;
    }

    private static string? DomainOf(string? address)
    {
        if (address is null) return null;
        var a = address.Trim().Trim('<', '>');
        var at = a.LastIndexOf('@');
        return at >= 0 && at < a.Length - 1 ? a[(at + 1)..].ToLowerInvariant() : null;
    }

    private static byte[] Decode(MimePart part)
    {
        if (part.Content is null) return [];
        using var output = new MemoryStream();
        part.Content.DecodeTo(output);
        return output.ToArray();
    }

    private static bool LooksLikeArf(MimePart part)
    {
        if (part.ContentType.IsMimeType("message", "*")) return false;
        var bytes = Decode(part);
        return Encoding.ASCII.GetString(bytes, 0, Math.Min(200, bytes.Length)).TrimStart()
            .StartsWith("Feedback-Type:", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Loads a header block; a blank line inside it (seen in real samples) does not end the fields early.</summary>
    private static HeaderList LoadHeaders(byte[] block)
    {
        var text = Encoding.UTF8.GetString(block).Replace("\r\n", "\n");
        // Drop blank lines between fields, then end the block with one.
        var lines = text.Split('\n').Where(l => l.Trim().Length > 0);
        var normalised = Encoding.UTF8.GetBytes(string.Join("\r\n", lines) + "\r\n\r\n");
        try
        {
            return HeaderList.Load(new MemoryStream(normalised));
        }
        catch (FormatException)
        {
            return [];
        }
    }
}
