using System.Text.RegularExpressions;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Reads RFC 3464 delivery status notifications: the per-message fields (§2.2) and one group of
/// per-recipient fields (§2.3) per recipient, from MimeKit's <see cref="MimeKit.MessageDeliveryStatus"/>
/// parts (or from report fields sent as text by broken MTAs).
/// </summary>
internal static partial class DeliveryStatusReader
{
    internal sealed record Result(string? ReportingMta, List<BouncedRecipient> Recipients);

    /// <summary>Null when the message carries no delivery-status fields at all.</summary>
    public static Result? TryRead(NotificationParts parts, string reportText, bool challenge, BounceAddresses.Exclusions excluded)
    {
        var groups = new List<FieldGroup>();
        foreach (var dsn in parts.DeliveryStatus)
            groups.AddRange(FieldGroup.From(dsn));
        foreach (var untyped in parts.UntypedReportTexts)
        {
            var fields = FieldGroup.Parse(untyped);
            if (fields.Exists(IsRecipientGroup))
                groups.AddRange(fields);
        }
        if (parts.DeliveryStatus.Count == 0 && groups.Count == 0)
            return null;

        var messageGroups = groups.Where(g => !IsRecipientGroup(g)).ToList();
        var recipientGroups = groups.Where(g => IsRecipientGroup(g) && EmailOf(g).Length > 0).Take(BounceAddresses.MaxCandidates).ToList();
        string? MessageField(string name) => messageGroups.Select(g => g[name]).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

        var emails = recipientGroups.Select(EmailOf).ToList();
        // Some MTAs write a Final-Recipient without local part (sendmail: "rfc822; @host"). With a single
        // recipient, the one address the human-readable part names is the better answer.
        if (emails.Count == 1 && emails[0].StartsWith('@') && BounceAddresses.FindIn(reportText, excluded) is [var only])
            emails[0] = only.Address;
        // Each recipient's paragraph of the human-readable part, located in one pass.
        var paragraphs = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in TextBounceReader.Read(reportText, [.. emails.Where(e => e.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase)], excluded))
            paragraphs.TryAdd(p.Email, p.Text);

        var recipients = new List<BouncedRecipient>();
        for (var i = 0; i < recipientGroups.Count; i++)
        {
            var g = recipientGroups[i];
            var email = emails[i];
            var originalRecipient = SmtpReplyText.SplitTyped(g["Original-Recipient"]).Value is { Length: > 0 } orcpt ? SmtpReplyText.CleanAddress(orcpt) : null;

            // RFC 3464 §2.3.4: status-code, optionally followed by a comment.
            var statusField = g["Status"] ?? MessageField("Status");
            EnhancedStatusCode? status = EnhancedStatusCode.TryParse(statusField, out var s) ? s : null;
            var statusComment = statusField is null ? null : StatusComment().Match(statusField) is { Success: true } c ? c.Groups[1].Value : null;

            // RFC 3464 §2.3.3: failed / delayed / delivered / relayed / expanded.
            var action = ActionOf(g["Action"] ?? MessageField("Action")) ?? status?.Class switch
            {
                2 => "delivered",
                4 => "delayed",
                5 => "failed",
                _ => null,
            };

            // RFC 3464 §2.3.6: diagnostic-type ";" diagnostic.
            var (diagnosticType, diagnostic) = SmtpReplyText.SplitTyped(g["Diagnostic-Code"] ?? MessageField("Diagnostic-Code"));
            var smtpCode = SmtpReplyText.FindSmtpCode(diagnostic);
            var remoteMta = SmtpReplyText.SplitTyped(g["Remote-MTA"] ?? MessageField("Remote-MTA")).Value;

            var paragraph = paragraphs.GetValueOrDefault(email)
                ?? (originalRecipient is null || recipientGroups.Count > 1 ? null : TextBounceReader.ParagraphFor(reportText, originalRecipient));
            var primary = statusComment is null ? diagnostic : $"{diagnostic} {statusComment}";
            smtpCode ??= SmtpReplyText.FindSmtpCode(paragraph);

            var type = action switch
            {
                // Not final yet (RFC 3464 §2.3.3): never a hard bounce; a stated temporary cause keeps its type.
                "delayed" => SmtpReplyClassifier.ForDelay(SmtpReplyClassifier.Classify(smtpCode ?? 0, status,
                    [primary, paragraph, recipientGroups.Count == 1 ? reportText : null])),
                "delivered" or "relayed" or "expanded" => BounceType.Unknown,                // success, not a bounce
                _ => SmtpReplyClassifier.Classify(smtpCode ?? 0, status,
                    [primary, paragraph, recipientGroups.Count == 1 ? reportText : null]),
            };
            if (challenge)
                type = BounceType.ChallengeVerification;

            recipients.Add(new BouncedRecipient
            {
                Email = email,
                OriginalRecipient = originalRecipient,
                Action = action,
                Status = status?.ToString(),
                SmtpCode = smtpCode,
                Diagnostic = diagnostic.Length > 0 ? SmtpReplyText.Tidy(diagnostic)
                    : paragraph is not null ? SmtpReplyText.Tidy(paragraph, 1000)
                    : statusComment,
                DiagnosticType = diagnosticType,
                RemoteMta = remoteMta.Length > 0 ? remoteMta : null,
                Type = type,
                Suppress = type.SuppressesRecipient,
            });
        }
        var reportingMta = SmtpReplyText.SplitTyped(MessageField("Reporting-MTA")).Value;
        return new Result(reportingMta.Length > 0 ? reportingMta : null, recipients);
    }

    private static bool IsRecipientGroup(FieldGroup g) =>
        g.Has("Final-Recipient") || g.Has("Original-Recipient") || g.Has("X-Actual-Recipient");

    private static string EmailOf(FieldGroup g)
    {
        foreach (var name in (ReadOnlySpan<string>)["Final-Recipient", "X-Actual-Recipient", "Original-Recipient"])
        {
            var value = SmtpReplyText.CleanAddress(SmtpReplyText.SplitTyped(g[name]).Value);
            if (value.Length > 0)
                return value;
        }
        return "";
    }

    private static string? ActionOf(string? field)
    {
        if (string.IsNullOrWhiteSpace(field))
            return null;
        var word = ActionWord().Match(field);
        return word.Success ? word.Value.ToLowerInvariant() : null;
    }

    [GeneratedRegex(@"[A-Za-z]+", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex ActionWord();

    [GeneratedRegex(@"^\s*#?[245]\.\d{1,3}\.\d{1,3}\s*\((.{1,500})\)", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex StatusComment();
}
