using System.Text.RegularExpressions;
using MimeKit;

namespace Mailroom.Mail.Bounces;

/// <summary>
/// Finds the original (bounced) message: an enclosed <c>message/rfc822</c> or <c>text/rfc822-headers</c>
/// part (RFC 3464 §2, RFC 6522 §3), or the copy that non-MIME bounces quote after a marker line such as
/// Exim's "------ This is a copy of the message" or qmail's "--- Below this line is a copy of the message.".
/// </summary>
internal static partial class OriginalMessageReader
{
    private const int MaxHeaders = 500;
    private const int MaxAddresses = 100;

    /// <summary>Splits a bounce text into the report (before the marker) and the quoted original (after it), if a marker is found.</summary>
    public static (string Report, string? Quoted) SplitAtMarker(string text, bool allowHeaderBlockMarker)
    {
        var m = Marker().Match(text);
        if (m.Success)
        {
            var lineEnd = text.IndexOf('\n', m.Index);
            var quoted = lineEnd < 0 ? "" : text[(lineEnd + 1)..];
            return (text[..m.Index], quoted);
        }
        if (allowHeaderBlockMarker)
        {
            var h = HeaderBlock().Match(text);
            if (h.Success)
                return (text[..h.Index], text[h.Index..]);
        }
        return (text, null);
    }

    /// <summary>Parses a quoted copy: skips up to a few non-header lines, then reads headers.</summary>
    public static MimeMessage? ParseQuoted(string quoted)
    {
        var lines = quoted.Split('\n', 16);
        var skip = 0;
        while (skip < lines.Length - 1 && skip < 12 && !HeaderLine().IsMatch(lines[skip]))
            skip++;
        if (skip >= lines.Length || !HeaderLine().IsMatch(lines[skip]))
            return null;
        var start = 0;
        for (var i = 0; i < skip; i++)
            start = quoted.IndexOf('\n', start) + 1;
        // Lines of a quoted copy are sometimes indented by one space or carry trailing blanks; MimeKit copes.
        return NotificationParts.LoadHeaders(quoted[start..]);
    }

    public static OriginalMessage From(MimeMessage message)
    {
        var headers = new List<MessageHeader>();
        foreach (var header in message.Headers)
        {
            if (headers.Count >= MaxHeaders)
                break;
            headers.Add(new MessageHeader(header.Field, SafeValue(header)));
        }
        string? Raw(string name) => headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))?.Value;

        return new OriginalMessage
        {
            MessageId = CleanId(Raw("Message-ID")),
            PostmarkMessageId = Raw("X-PM-Message-Id")?.Trim(),
            Subject = Safe(() => message.Subject),
            From = Safe(() => message.From.Mailboxes.FirstOrDefault()?.Address) ?? ExtractFirstAddress(Raw("From")),
            To = Safe(() => message.To.Mailboxes.Select(m => m.Address).Where(a => a.Contains('@')).Take(MaxAddresses).ToList()) ?? [],
            ReturnPath = Raw("Return-Path") is { } rp && SmtpReplyText.CleanAddress(rp) is { Length: > 0 } clean ? clean : null,
            Headers = headers,
        };
    }

    public static string? CleanId(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
            return null;
        var s = id.Trim();
        var lt = s.IndexOf('<');
        var gt = lt >= 0 ? s.IndexOf('>', lt + 1) : -1;
        if (lt >= 0 && gt > lt + 1)
            s = s[(lt + 1)..gt];
        s = s.Trim();
        return s.Length == 0 ? null : s;
    }

    private static string? ExtractFirstAddress(string? value)
    {
        if (value is null)
            return null;
        var m = BounceAddresses.AddressPattern().Match(value);
        return m.Success ? m.Value : null;
    }

    private static string SafeValue(Header header)
    {
        try
        {
            var value = header.Value ?? "";
            return value.Length <= 8192 ? value : value[..8192];
        }
        catch (Exception)
        {
            return "";
        }
    }

    private static T? Safe<T>(Func<T?> read) where T : class
    {
        try
        {
            return read();
        }
        catch (Exception)
        {
            return null;
        }
    }

    // "^[ \t]*(?:-+[ \t]*)?": blanks, then dashes and blanks. Spelled "[ \t]*-*[ \t]*" the two blank runs could
    // split a line of blanks in every way (quadratic: a 165,000-blank line hit the 1 s timeout).
    [GeneratedRegex(@"^[ \t]*(?:-+[ \t]*)?(?:(?:this is a copy of the message|below this line is a copy of the message|the header of the original message is following|unsent message follows|returned message|message headers follow|below is a copy of the original message|undelivered message (headers )?follows|copy of the original message|original message headers|(?:included is |here is |attached is )?a copy of the (?:original )?message(?:'s)? headers?)\b|original message[ \t]*(?:-{2,}|follows\b|headers?\b|below\b|is (attached|below|included)\b|:?[ \t]*\r?$))",
        RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Marker();

    // A blank line, or a separator line of dashes or equals signs (a notice's "copy of the header" rule), followed by a
    // typical first header of a quoted message (RFC 5322 §3.6: trace fields come first).
    [GeneratedRegex(@"(?<=\n[ \t]*(?:[-=_*]{5,}[ \t]*)?\r?\n)(?=(Received|Return-Path|Message-ID|DKIM-Signature|X-[A-Za-z-]+|From|Date|MIME-Version):[ \t]?\S)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex HeaderBlock();

    [GeneratedRegex(@"^[!-9;-~]{1,76}:", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex HeaderLine();
}
