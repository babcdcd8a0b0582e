using System.Text;

namespace Mailroom.Mail.Composition;

/// <summary>What an ingress path does with a header field that the client supplied.</summary>
public enum HeaderUse
{
    /// <summary>Kept as given.</summary>
    Keep,
    /// <summary>Removed silently: it has no meaning for a message Mailroom sends, and would mislead if kept.</summary>
    Strip,
    /// <summary>The message is refused (Email API: 300; SMTP: 554 5.6.0), with <see cref="HeaderRules.Refusal"/>'s words.</summary>
    Refuse,
    /// <summary>Read as a Mailroom control field (<c>X-PM-*</c>, spec §12.2), then removed.</summary>
    Read,
}

/// <summary>
/// One row of <see cref="HeaderRules.Table"/>: a field name (or a name prefix), what the Email API does with it as a
/// <c>Headers</c> entry, what SMTP submission does with it in a submitted message, and why.
/// </summary>
/// <param name="Name">The field name, compared ignoring case (RFC 5322 §1.2.2).</param>
/// <param name="IsPrefix">True when <paramref name="Name"/> is a prefix (<c>Content-</c>, <c>X-PM-</c>).</param>
/// <param name="Api">Use of a <c>Headers</c> entry of this name in <c>POST /email</c>.</param>
/// <param name="Smtp">Use of this field in a message submitted over SMTP.</param>
/// <param name="Why">Completes "The 'Name' header ..." in a refusal; the reason for the row otherwise.</param>
public sealed record HeaderRule(string Name, bool IsPrefix, HeaderUse Api, HeaderUse Smtp, string Why);

/// <summary>The kind of fault <see cref="HeaderRules.CheckSubmitted"/> finds in a submitted header section.</summary>
public enum HeaderFaultKind
{
    /// <summary>NUL, another control character, a bare CR or LF, or a malformed field name: refuse (554 5.6.0).</summary>
    Malformed,
    /// <summary>A line longer than 998 octets (RFC 5322 §2.1.1): refuse (554 5.6.0).</summary>
    TooLong,
    /// <summary>8-bit octets without SMTPUTF8 (RFC 6531 §3.4): refuse (550 5.6.7).</summary>
    EightBit,
    /// <summary>8-bit octets with SMTPUTF8 that are not UTF-8 (RFC 6532 §3.2): refuse (554 5.6.0).</summary>
    NotUtf8,
}

/// <summary>A fault of a submitted header section: its kind and the words to answer with.</summary>
public sealed record HeaderFault(HeaderFaultKind Kind, string Message);

/// <summary>
/// The header rules of both ingress paths in one place: the Email API (<see cref="MessageComposer"/>, for its
/// <c>Headers</c> array) and SMTP submission (<c>SmtpIngress</c>, for the fields of a submitted message) read this
/// table and these checks, and word their refusals with the same text. Documented, with reasons, in
/// <c>src/Mailroom.Core/Ingress/README.md</c>.
/// <para>
/// The two columns differ only where the two inputs differ: an API caller names extra fields, so every field Mailroom
/// writes or that describes transport is refused (they have a field of their own or no business there); an SMTP client
/// submits a whole message, whose own fields (From, To, Subject, Date, MIME) are the message, and whose transport
/// leftovers (Return-Path, a signature of another domain) are dropped rather than bounced. Identity fields that would
/// change what the recipient is told about who sent it (Sender) are refused on both.
/// </para>
/// </summary>
public static class HeaderRules
{
    /// <summary>RFC 5322 §2.1.1: a line is at most 998 characters, excluding the CRLF.</summary>
    public const int MaxLineLength = 998;

    const string Reserved = "is reserved and cannot be set";

    /// <summary>The rules, most specific first. A field not listed is kept on both paths.</summary>
    public static IReadOnlyList<HeaderRule> Table { get; } =
    [
        new("From", false, HeaderUse.Refuse, HeaderUse.Keep, "cannot be set through Headers; use the From field"),
        new("To", false, HeaderUse.Refuse, HeaderUse.Keep, "cannot be set through Headers; use the To field"),
        new("Cc", false, HeaderUse.Refuse, HeaderUse.Keep, "cannot be set through Headers; use the Cc field"),
        // RFC 5322 §3.6.3: the envelope carries blind copies; the field would reveal them.
        new("Bcc", false, HeaderUse.Refuse, HeaderUse.Strip, "cannot be set through Headers; use the Bcc field"),
        new("Reply-To", false, HeaderUse.Refuse, HeaderUse.Keep, "cannot be set through Headers; use the ReplyTo field"),
        new("Subject", false, HeaderUse.Refuse, HeaderUse.Keep, "cannot be set through Headers; use the Subject field"),
        // SMTP: kept, and added if missing (RFC 6409 §8.3).
        new("Date", false, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: Mailroom dates the message when it accepts it (RFC 5322 section 3.6.1)"),
        // SMTP: replaced by Mailroom's unless X-PM-KeepID: true. API: allowed when MessageComposerOptions.AllowCustomMessageId.
        new("Message-ID", false, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: Mailroom gives every message its Message-ID (RFC 5322 section 3.6.4)"),
        // RFC 5322 §3.6.2: the agent that transmits the message; mail clients show "on behalf of" it. Mailroom
        // transmits, and only the From address is checked against the account's sender identities.
        new("Sender", false, HeaderUse.Refuse, HeaderUse.Refuse, $"{Reserved}: Mailroom transmits the message (RFC 5322 section 3.6.2), and only the From address is authorized; remove it"),
        // RFC 5321 §4.4: added by the final delivery MTA from the envelope; Mailroom sets the envelope (VERP).
        new("Return-Path", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: the final delivery server adds it from the envelope sender, which Mailroom sets (RFC 5321 section 4.4)"),
        // RFC 5321 §4.4: trace fields of the servers the message passed are kept; Mailroom adds its own on top.
        new("Received", false, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: servers add trace fields as the message passes them (RFC 5321 section 4.4)"),
        // Mailroom signs (RFC 6376). Another domain's signature would break on Mailroom's changes (Message-ID,
        // trace field, transfer encoding) or, if it survived, vouch for mail that domain did not send through us.
        new("DKIM-Signature", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: Mailroom signs the message with the From domain's key (RFC 6376)"),
        // RFC 8617: ARC sets are added by intermediaries that checked the message's authentication.
        new("ARC-", true, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: ARC sets are added by intermediaries that checked the message (RFC 8617)"),
        // RFC 8601 §5, RFC 7208 §9.1: results are recorded by the receiving domain, never taken from the sender.
        new("Authentication-Results", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: the receiving domain records its own results (RFC 8601 section 5)"),
        new("Received-SPF", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: the receiving domain records its own results (RFC 7208 section 9.1)"),
        // Added at final delivery (loop detection): one on a new message would make the recipient's server see a loop.
        new("Delivered-To", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: the final delivery agent adds it"),
        // RFC 2045: the MIME structure. API: written from the body and attachments; SMTP: it describes the submitted body.
        new("MIME-Version", false, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: Mailroom writes the MIME structure from the body and attachments (RFC 2045)"),
        new("Content-", true, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: Mailroom writes the MIME structure from the body and attachments (RFC 2045)"),
        // RFC 5322 §3.6.6: like Bcc, a resent message's blind copies are the envelope's business.
        new("Resent-Bcc", false, HeaderUse.Refuse, HeaderUse.Strip, $"{Reserved}: the Email API sends new messages, it does not resend (RFC 5322 section 3.6.6)"),
        // RFC 5322 §3.6.6: resending an existing message, which a submitting client may do and the API does not.
        new("Resent-", true, HeaderUse.Refuse, HeaderUse.Keep, $"{Reserved}: the Email API sends new messages, it does not resend (RFC 5322 section 3.6.6)"),
        // Spec §12.2: Mailroom's control fields; never delivered.
        new("X-PM-", true, HeaderUse.Refuse, HeaderUse.Read, $"{Reserved}: X-PM- fields are Mailroom's own; use the request's fields (Tag, Metadata, TrackOpens, TrackLinks, MessageStream)"),
    ];

    /// <summary>The rule for <paramref name="name"/>, or null when the field is kept on both paths.</summary>
    public static HeaderRule? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var rule in Table)
        {
            if (rule.IsPrefix ? name.StartsWith(rule.Name, StringComparison.OrdinalIgnoreCase) : name.Equals(rule.Name, StringComparison.OrdinalIgnoreCase))
                return rule;
        }
        return null;
    }

    /// <summary>What the Email API does with a <c>Headers</c> entry named <paramref name="name"/>.</summary>
    public static HeaderUse ApiUse(string name, bool allowCustomMessageId = false) =>
        allowCustomMessageId && name.Equals("Message-ID", StringComparison.OrdinalIgnoreCase) ? HeaderUse.Keep : Find(name)?.Api ?? HeaderUse.Keep;

    /// <summary>What SMTP submission does with a field named <paramref name="name"/> in a submitted message.</summary>
    public static HeaderUse SmtpUse(string name) => Find(name)?.Smtp ?? HeaderUse.Keep;

    // Refusals are plain ASCII ("section", not the section sign): an SMTP reply carries only ASCII (RFC 5321 §4.2),
    // and both paths answer with the same words.

    /// <summary>The words of a refusal of the field <paramref name="name"/>, the same on both paths.</summary>
    public static string Refusal(string name) =>
        $"The '{name}' header {Find(name)?.Why ?? Reserved}.";

    /// <summary>A control character in a field's value (RFC 5322 §3.2.5: only VCHAR and WSP; §2.2: CR LF only together).</summary>
    public static string ControlInValue(string name, char c) =>
        $"The '{name}' value contains {Describe(c)}; header injection is refused.";

    /// <summary>A control character in a field's name.</summary>
    public static string ControlInName(char c) =>
        $"The header name contains {Describe(c)}; header injection is refused.";

    /// <summary>A field name that is not RFC 5322 §3.6.8 ftext.</summary>
    public static string InvalidName(string name) =>
        $"'{name}' is not a valid header name: use printable ASCII without spaces or colons (RFC 5322 section 3.6.8).";

    /// <summary>A field that does not fit RFC 5322 §2.1.1's lines, folded or as given.</summary>
    public static string TooLong(string name) =>
        $"The '{name}' header needs a line longer than {MaxLineLength} characters, the most RFC 5322 section 2.1.1 allows: shorten it or fold it at a space.";

    /// <summary>How a control character is named in refusals.</summary>
    public static string Describe(char c) => c switch
    {
        '\r' => "a carriage return (CR)",
        '\n' => "a line feed (LF)",
        _ => $"the control character U+{(int)c:X4}",
    };

    /// <summary>
    /// Checks the header section of a message submitted over SMTP, as octets, before it is parsed (a parser would
    /// tidy away what must be refused): every line ends with CRLF (RFC 5322 §2.2: no bare CR or LF), holds no control
    /// character but HTAB (NUL included), is at most <see cref="MaxLineLength"/> octets (RFC 5322 §2.1.1), starts a
    /// field with a printable ASCII name and a colon (RFC 5322 §3.6.8), and holds 8-bit octets only when the client
    /// gave SMTPUTF8 on MAIL FROM (RFC 6531 §3.4), and then only as UTF-8 (RFC 6532 §3.2). The body is not looked at:
    /// an 8-bit body is accepted with or without BODY=8BITMIME and re-encoded for a 7-bit path by Preparation.
    /// </summary>
    /// <param name="message">The message as submitted (after SMTP's dot-unstuffing).</param>
    /// <param name="smtpUtf8">Whether MAIL FROM carried the SMTPUTF8 parameter.</param>
    /// <returns>The first fault, or null.</returns>
    public static HeaderFault? CheckSubmitted(ReadOnlySpan<byte> message, bool smtpUtf8)
    {
        var field = "";
        var rest = message;
        while (rest.Length > 0)
        {
            var lf = rest.IndexOf((byte)'\n');
            var line = lf < 0 ? rest : rest[..lf];
            var bareLf = lf >= 0 && (line.Length == 0 || line[^1] != (byte)'\r');
            if (lf >= 0 && !bareLf)
                line = line[..^1];
            if (line.Length == 0 && !bareLf)
                return null; // the empty line: the body follows (RFC 5322 §2.1)

            var folded = line.Length > 0 && line[0] is (byte)' ' or (byte)'\t';
            var colon = folded ? -1 : line.IndexOf((byte)':');
            var value = line;
            if (!folded)
            {
                // obs-optional (RFC 5322 §4.5.3): white space may precede the colon.
                var name = (colon < 0 ? line : line[..colon]).TrimEnd(" \t"u8);
                field = Printable(name);
                foreach (var b in name)
                {
                    if (b < 0x20 || b == 0x7F)
                        return new HeaderFault(HeaderFaultKind.Malformed, ControlInName((char)b));
                }
                if (bareLf && colon < 0)
                    return new HeaderFault(HeaderFaultKind.Malformed, ControlInName('\n'));
                if (!smtpUtf8 && !System.Text.Ascii.IsValid(name))
                    return EightBit(field);
                // Field names stay printable ASCII even with SMTPUTF8 (RFC 6532 §3.2).
                if (colon < 0 || name.Length == 0 || name.IndexOfAnyExceptInRange((byte)'!', (byte)'~') >= 0)
                    return new HeaderFault(HeaderFaultKind.Malformed, InvalidName(field));
                value = line[(colon + 1)..];
            }
            foreach (var b in value)
            {
                if ((b < 0x20 && b != (byte)'\t') || b == 0x7F)
                    return new HeaderFault(HeaderFaultKind.Malformed, ControlInValue(field, (char)b));
            }
            if (bareLf)
                return new HeaderFault(HeaderFaultKind.Malformed, ControlInValue(field, '\n'));
            if (line.Length > MaxLineLength)
                return new HeaderFault(HeaderFaultKind.TooLong, TooLong(field));
            if (!System.Text.Ascii.IsValid(value))
            {
                if (!smtpUtf8)
                    return EightBit(field);
                if (!System.Text.Unicode.Utf8.IsValid(value))
                    return new HeaderFault(HeaderFaultKind.NotUtf8, $"The '{field}' header is not valid UTF-8, which SMTPUTF8 requires of 8-bit header text (RFC 6532 section 3.2).");
            }
            if (lf < 0)
                return null;
            rest = rest[(lf + 1)..];
        }
        return null;
    }

    static HeaderFault EightBit(string field) =>
        new(HeaderFaultKind.EightBit, $"The '{field}' header holds non-ASCII text, which needs SMTPUTF8 on MAIL FROM (RFC 6531 section 3.4): send it, or encode the text (RFC 2047).");

    /// <summary>A field name as it may be shown in a reply: printable ASCII, at most 100 characters.</summary>
    static string Printable(ReadOnlySpan<byte> name)
    {
        var shown = name.Length > 100 ? name[..100] : name;
        var builder = new StringBuilder(shown.Length);
        foreach (var b in shown)
            builder.Append(b is >= (byte)' ' and <= (byte)'~' ? (char)b : '?');
        return builder.ToString();
    }
}
