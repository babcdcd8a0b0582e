using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Arf;

/// <summary>
/// Parses spam complaints: RFC 5965 feedback reports (<c>multipart/report; report-type=feedback-report</c>
/// with a <c>message/feedback-report</c> part and the original message or its headers), Microsoft JMRP
/// reports, and Amazon SES complaint notifications. Pure: reads only the given message. Never throws.
/// </summary>
public static class ArfParser
{
    public static ComplaintReport Parse(MimeMessage message)
    {
        try
        {
            return TryRead(NotificationParts.Read(message)) ?? ComplaintReport.NotAComplaint;
        }
        catch (Exception)
        {
            return ComplaintReport.NotAComplaint;
        }
    }

    internal static ComplaintReport? TryRead(NotificationParts parts)
    {
        var groups = new List<FieldGroup>();
        foreach (var report in parts.FeedbackReports)
        {
            try
            {
                groups.Add(FieldGroup.From(report.Fields));
            }
            catch (Exception)
            {
                groups.AddRange(FieldGroup.Parse(NotificationParts.ReadText(report, 64 * 1024)).Take(1));
            }
        }
        foreach (var untyped in parts.UntypedReportTexts)
        {
            var fields = FieldGroup.Parse(untyped);
            groups.AddRange(fields.Where(g => g.Has("Feedback-Type")));
        }

        var original = parts.Enclosed.Count > 0 ? OriginalMessageReader.From(parts.Enclosed[0]) : null;
        if (groups.Count > 0 || parts.ReportType == "feedback-report")
            return FromArf(groups, original);

        // Microsoft JMRP: multipart/mixed with the complained-about message; the recipient is stamped in
        // X-HmXmrOriginalRecipient.
        foreach (var enclosed in parts.Enclosed)
        {
            var jmrp = BounceAddresses.OfHeader(enclosed.Headers, "X-HmXmrOriginalRecipient").ToList();
            if (jmrp.Count > 0)
                return new ComplaintReport
                {
                    Format = ComplaintFormat.MicrosoftJmrp,
                    Type = BounceType.SpamComplaint,
                    FeedbackType = "abuse",
                    Recipients = jmrp,
                    Original = OriginalMessageReader.From(enclosed),
                    SourceIp = enclosed.Headers["X-Reporter-IP"]?.Trim(),
                };
        }

        if (AmazonSesNotificationReader.TryRead(parts.Text, null, null) is { Type: BounceType.SpamComplaint } ses)
            return new ComplaintReport
            {
                Format = ComplaintFormat.AmazonSes,
                Type = BounceType.SpamComplaint,
                FeedbackType = ses.FeedbackType,
                Recipients = [.. ses.Recipients.Select(r => r.Email)],
                Original = ses.Original,
                UserAgent = ses.Recipients.FirstOrDefault()?.Diagnostic,
            };
        return null;
    }

    private static ComplaintReport FromArf(List<FieldGroup> groups, OriginalMessage? original)
    {
        string? First(string name) => groups.Select(g => g[name]).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
        List<string> AllValues(string name) =>
            [.. groups.SelectMany(g => g.All(name)).Select(v => v.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).Take(BounceAddresses.MaxCandidates)];

        var feedbackType = First("Feedback-Type")?.ToLowerInvariant() ?? "abuse";
        var recipients = AllValues("Original-Rcpt-To").Select(SmtpReplyText.CleanAddress).Where(a => a.Length > 0).ToList();
        if (recipients.Count == 0 && original is not null)
            recipients = [.. original.To.Where(a => BounceAddresses.AddressPattern().IsMatch(a))];

        return new ComplaintReport
        {
            Format = ComplaintFormat.Arf,
            Type = feedbackType == "not-spam" ? BounceType.Unknown : BounceType.SpamComplaint,
            FeedbackType = feedbackType,
            Recipients = recipients,
            OriginalMailFrom = First("Original-Mail-From") is { } mailFrom ? SmtpReplyText.CleanAddress(mailFrom) : null,
            UserAgent = First("User-Agent"),
            Version = First("Version"),
            ArrivalDate = First("Arrival-Date") ?? First("Received-Date"),
            SourceIp = First("Source-IP"),
            OriginalEnvelopeId = First("Original-Envelope-Id"),
            ReportedDomains = AllValues("Reported-Domain"),
            ReportedUris = AllValues("Reported-Uri"),
            AuthFailure = First("Auth-Failure"),
            Original = original,
        };
    }
}
