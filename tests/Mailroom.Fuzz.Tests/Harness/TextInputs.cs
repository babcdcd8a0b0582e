using System.Text;
using CsCheck;

namespace Mailroom.Fuzz.Tests.Harness;

/// <summary>Hostile strings for the address, header and SMTP reply parsers: near-valid shapes with hostile pieces.</summary>
public static class TextInputs
{
    private static readonly string[] AddressPieces =
    [
        "a", "jo.smith", "pm_bounces", "+", "-", ".", "..", "@", "@@", "example.com", "b.example", "xn--bcher-kva.example", "localhost",
        "[127.0.0.1]", "[IPv6:::1]", "\"", "\"quoted, name\"", "\\", "\\\"", "<", ">", "<<", ",", ";", ":", "(", ")", "(comment (nested))",
        " ", "\t", "\r\n", "\r", "\n", "\0", "\u0085", "\u2028", "\u00e9", "\u00fc", "\ud83d\ude00", "\ud800", "\udc00", "\ufeff", "\u200b",
        "=?utf-8?B?SGk=?=", "=?utf-8?Q?=C3=A9?=", "0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "-0", "-00", "-4294967296",
        "-2147483647", "-2147483648", "-99999999999", "Group:", "a@b.example;", "undisclosed-recipients:;", "%", "!", "#", "$", "&", "'", "*", "/", "?", "^", "`", "{", "|", "}", "~",
    ];

    /// <summary>Concatenated address pieces and random characters, sometimes very long.</summary>
    public static Gen<string> Addresses { get; } = new GenFrom<string>(Address);

    public static string Address(Rng r)
    {
        var sb = new StringBuilder();
        var n = r.Length(40);
        for (var i = 0; i < n; i++)
        {
            if (r.Chance(80))
                sb.Append(r.Pick(AddressPieces));
            else
                sb.Append((char)r.Next(r.Chance(80) ? 0x80 : 0x10000));
        }
        if (r.Chance(3))
            sb.Append(r.Pick(AddressPieces), 0, 1).Append('a', r.Between(200, 50_000));
        return sb.ToString();
    }

    /// <summary>Free text such as a header value or an SMTP reply: tokens of every kind, random characters, long runs.</summary>
    public static Gen<string> Text { get; } = new GenFrom<string>(TextOf);

    public static string TextOf(Rng r)
    {
        var sb = new StringBuilder();
        var n = r.Length(80);
        for (var i = 0; i < n; i++)
        {
            switch (r.Next(5))
            {
                case 0:
                    sb.Append(r.Pick(AddressPieces));
                    break;
                case 1:
                    sb.Append(r.Pick(MailInputs.Tokens));
                    break;
                case 2:
                    sb.Append(r.Pick(ReplyPieces));
                    break;
                case 3:
                    sb.Append((char)r.Between(0x20, 0x7E));
                    break;
                default:
                    sb.Append((char)r.Next(0x10000));
                    break;
            }
        }
        if (r.Chance(3))
            sb.Append(r.Pick(ReplyPieces)[0], r.Between(1000, 200_000));
        if (r.Chance(5))
            sb.Append(Repeated(r));
        return sb.ToString();
    }

    /// <summary>
    /// Report text as the bounce readers get it (at most 256 K characters): seed messages as text, mutated; one unit
    /// repeated thousands of times (empty lines, unclosed tags, address-like runs: what makes a pattern quadratic),
    /// alone or inside a seed; free text.
    /// </summary>
    public static Gen<string> ReportTexts { get; } = new GenFrom<string>(ReportText);

    private static readonly string[] Units =
    [
        "\n", "\r\n", " ", "\t", "<", "<br", "<script", "</p", "a", "a.", "a@", "@", "@a", "a@b", ".", "-", "=", ":", "550 ", "5.1.1 ", "550-",
        "said:", "said: ", "<<< ", "Final-Recipient: ", "Status: ", "> ", ">>", "------", "original message", "{\"", "\"", "\\",
        "xn--", "a-", "1.", "#5.", "(", "[", "http://", "=?utf-8?q?", "&#", "\u00e9", "user unknown ",
    ];

    public static string ReportText(Rng r)
    {
        var text = r.Next(4) switch
        {
            0 => Encoding.Latin1.GetString(MailInputs.ByteMutations(r, r.Pick(MailInputs.Seeds))),
            1 => TextOf(r),
            _ => Repeated(r),
        };
        return text.Length <= 256 * 1024 ? text : text[..(256 * 1024)];
    }

    private static string Repeated(Rng r)
    {
        var unit = r.Chance(80) ? r.Pick(Units) : r.Pick(Units) + r.Pick(Units);
        var times = r.Chance(50) ? r.Between(100, 5_000) : r.Between(5_000, 256 * 1024 / unit.Length);
        var run = new StringBuilder(unit.Length * times);
        for (var i = 0; i < times; i++)
            run.Append(unit);
        if (r.Chance(50))
            return run.ToString();
        var seed = Encoding.Latin1.GetString(r.Pick(MailInputs.Seeds));
        var at = r.Next(seed.Length + 1);
        return seed[..at] + run + seed[at..];
    }

    private static readonly string[] ReplyPieces =
    [
        "250", "421", "450", "451", "452", "550", "551", "552", "553", "554", "5.1.1", "4.2.2", "5.7.1", "5.7.606", "2.0.0", "5.", "5.1.", ".1.1",
        "5.1.1.1", "9.9.9", "#5.1.1", "(#4.4.1)", "5.1.1)", "550-", "550 ", "-", " ", "\r\n", "\n", "user unknown", "mailbox full", "quota",
        "spam", "blocked", "blacklisted", "dmarc", "spf", "rate limit", "try again later", "does not exist", "no such user", "relay denied",
        "<", ">", "<a@b.example>", "http://", "<html>", "</p>", "&nbsp;", "&#x41;", "\u00a0", "0000000000", "99999999999999999999",
    ];
}
