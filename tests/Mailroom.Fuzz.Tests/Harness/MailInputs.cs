using System.Text;
using CsCheck;

namespace Mailroom.Fuzz.Tests.Harness;

/// <summary>A generator from a function of the random source (no shrinking: the harness saves failing inputs instead).</summary>
public sealed class GenFrom<T>(Func<Rng, T> generate) : Gen<T>
{
    public override T Generate(PCG pcg, Size? min, out Size size)
    {
        size = new Size(0);
        return generate(new Rng(pcg));
    }
}

/// <summary>CsCheck's PCG with the few draws the mutators use.</summary>
public readonly struct Rng(PCG pcg)
{
    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : (int)pcg.Next((uint)maxExclusive);
    public int Between(int min, int maxInclusive) => min + Next(maxInclusive - min + 1);
    public bool Chance(int percent) => Next(100) < percent;
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>A length skewed to small values, sometimes large: most inputs stay fast, some test the limits.</summary>
    public int Length(int max) => Next(10) switch
    {
        < 6 => Next(Math.Min(max, 64) + 1),
        < 9 => Next(Math.Min(max, 4096) + 1),
        _ => Next(max + 1),
    };

    public byte[] Bytes(int count)
    {
        var b = new byte[count];
        for (var i = 0; i < count; i++)
            b[i] = (byte)Next(256);
        return b;
    }
}

/// <summary>
/// Hostile mail: the seed messages (copied into <c>Seeds/</c>: DSNs, text bounces, ARF and SES reports, auto-replies)
/// with byte-level and MIME-structural mutations, synthetic DSN/ARF skeletons with generated fields, splices of
/// two seeds, and plain random bytes.
/// </summary>
public static class MailInputs
{
    public static IReadOnlyList<byte[]> Seeds { get; } = LoadSeeds();

    /// <summary>Tokens that mean something to a MIME, DSN or ARF parser: inserted and repeated by the mutators.</summary>
    public static readonly string[] Tokens =
    [
        "\r\n", "\n", "\r", "\r\n\r\n", "\0", ":", ";", "=", "\"", "<", ">", "@", "--", "\r\n--", "\r\n.\r\n", "=?", "?=",
        "=?utf-8?B?", "=?iso-8859-1?Q?", "=?utf-7?Q?+AGEAYQ-?=", "=\r\n", "=ZZ", "=0", "\t", " ",
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n", "Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n",
        "Content-Type: message/rfc822\r\n", "Content-Type: message/delivery-status\r\n", "Content-Type: message/feedback-report\r\n",
        "Content-Type: text/rfc822-headers\r\n", "Content-Type: message/partial; id=1; number=2; total=3\r\n", "Content-Type: message/external-body\r\n",
        "Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\r\n", "Content-Transfer-Encoding: x-uuencode\r\n",
        "charset=utf-7", "charset=\"x-unknown\"", "charset=utf-32", "charset=iso-2022-jp", "charset=ucs-2",
        "boundary=", "boundary=\"\"", "report-type=feedback-report", "report-type=delivery-status",
        "Final-Recipient: rfc822; ", "Original-Recipient: rfc822;", "Action: failed\r\n", "Action: delayed\r\n", "Status: 5.1.1\r\n",
        "Status: 4.", "Diagnostic-Code: smtp; 550 5.1.1 ", "Remote-MTA: dns; ", "Reporting-MTA: dns;", "X-Failed-Recipients: ",
        "Feedback-Type: abuse\r\n", "User-Agent: x/1\r\n", "Version: 1\r\n", "Original-Rcpt-To: ", "Arrival-Date: ",
        "{\"notificationType\":\"Bounce\",\"bounce\":{\"bouncedRecipients\":[{\"emailAddress\":\"", "\"}]}}", "{", "}", "[", "]",
        "Auto-Submitted: auto-replied\r\n", "Precedence: bulk\r\n", "In-Reply-To: <", "Subject: Undelivered Mail Returned to Sender\r\n",
        "This is a copy of the message", "------ This is a copy of the message, including all the headers. ------\r\n",
        "--- Below this line is a copy of the message.\r\n", "Original message follows", "550 5.1.1 <a@b.example>: user unknown\r\n",
        "a@b.example", "pm_bounces+00000000000000000000000000000000-0@b.example", "\u00e9", "\u00ff\u00fe", "\ud7ff",
        "#5.1.1", "5.7.606", "(#4.4.1)", "<html><body>", "</", "<!--", "&amp;", "&#", "\u2028",
    ];

    private static readonly byte[][] TokenBytes = [.. Tokens.Select(t => Encoding.UTF8.GetBytes(t))];

    public static Gen<byte[]> Messages { get; } = new GenFrom<byte[]>(Message);

    /// <summary>Largest input: SMTP refuses more than 10 MB, and larger inputs only slow the run.</summary>
    public const int MaxInputBytes = 8 * 1024 * 1024;

    public static byte[] Message(Rng r)
    {
        var message = AnyMessage(r);
        return message.Length <= MaxInputBytes ? message : message[..MaxInputBytes];
    }

    private static byte[] AnyMessage(Rng r)
    {
        var kind = r.Next(100);
        return kind switch
        {
            < 3 => r.Pick(Seeds),
            < 40 => ByteMutations(r, r.Pick(Seeds)),
            < 70 => Structural(r),
            < 80 => Splice(r),
            < 90 => Synthetic(r),
            < 95 => TokenSoup(r),
            _ => r.Bytes(r.Length(8192)),
        };
    }

    /// <summary>1–10 stacked edits: flips, interesting bytes, deletions, duplications, token insertions, truncation, long lines.</summary>
    public static byte[] ByteMutations(Rng r, byte[] seed)
    {
        var data = new List<byte>(seed);
        var count = r.Between(1, 10);
        for (var k = 0; k < count; k++)
        {
            var at = r.Next(data.Count + 1);
            switch (r.Next(10))
            {
                case 0 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] ^= (byte)(1 << r.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] = r.Pick<byte>([0, 0xFF, 0x80, 0xC3, 0xE2, (byte)'\r', (byte)'\n', (byte)':', (byte)'-', (byte)'=', (byte)'"', (byte)';', (byte)' ']);
                    break;
                case 2:
                    data.RemoveRange(at, Math.Min(r.Length(512), data.Count - at));
                    break;
                case 3 when data.Count > 0:
                {
                    var from = r.Next(data.Count);
                    var chunk = data.GetRange(from, Math.Min(r.Length(1024), data.Count - from));
                    data.InsertRange(at, Repeat(chunk, r.Chance(10) ? r.Between(2, 200) : 1));
                    break;
                }
                case 4:
                case 5:
                {
                    data.InsertRange(at, Repeat(r.Pick(TokenBytes), r.Chance(10) ? r.Between(2, 2000) : 1));
                    break;
                }
                case 6:
                    data.RemoveRange(at, data.Count - at); // truncated
                    break;
                case 7:
                    data.InsertRange(at, Enumerable.Repeat(r.Pick<byte>([(byte)'a', (byte)' ', (byte)'=', (byte)'-', (byte)'\t', 0x80]), r.Between(900, 300_000)));
                    break;
                case 8:
                    data.InsertRange(at, r.Bytes(r.Length(256)));
                    break;
                default:
                    // Line endings: strip every CR, or make every LF a CRLF (mixed endings are common in the wild).
                    data = r.Chance(50) ? [.. data.Where(b => b != '\r')] : [.. Encoding.Latin1.GetBytes(Encoding.Latin1.GetString([.. data]).Replace("\n", "\r\n"))];
                    break;
            }
        }
        return [.. data];
    }

    private static byte[] Repeat(IReadOnlyCollection<byte> chunk, int times)
    {
        var result = new byte[chunk.Count * times];
        var one = chunk.ToArray();
        for (var t = 0; t < times; t++)
            one.CopyTo(result, t * one.Length);
        return result;
    }

    /// <summary>MIME-structure games around a seed: deep nesting, header floods, boundary and encoding abuse.</summary>
    public static byte[] Structural(Rng r)
    {
        var seed = Encoding.Latin1.GetString(r.Pick(Seeds));
        var text = r.Next(9) switch
        {
            0 => NestRfc822(seed, r.Chance(80) ? r.Between(2, 40) : r.Between(40, 400)),
            1 => NestMultipart(seed, r.Chance(80) ? r.Between(2, 40) : r.Between(40, 1500), r),
            2 => ManyHeaders(seed, r.Chance(80) ? r.Between(100, 2000) : r.Between(2000, 60_000), r),
            3 => Boundaries(seed, r),
            4 => Encodings(seed, r),
            5 => ManyParts(seed, r.Chance(80) ? r.Between(10, 500) : r.Between(500, 10_000), r),
            6 => seed.Replace("\n", "\n" + new string(' ', r.Between(1, 3))), // every line indented: folded into one header
            7 => seed + "\r\n" + new string('x', r.Between(10_000, 2_000_000)), // one huge line
            _ => EightBit(seed, r),
        };
        var bytes = Encoding.Latin1.GetBytes(text);
        return r.Chance(30) ? ByteMutations(r, bytes) : bytes;
    }

    private static string NestRfc822(string inner, int depth)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < depth; i++)
            sb.Append("From: a@b.example\r\nContent-Type: message/rfc822\r\n\r\n");
        sb.Append(inner);
        return sb.ToString();
    }

    private static string NestMultipart(string inner, int depth, Rng r)
    {
        var sb = new StringBuilder("From: a@b.example\r\n");
        var type = r.Pick(["multipart/mixed", "multipart/report; report-type=delivery-status", "multipart/alternative", "multipart/related"]);
        for (var i = 0; i < depth; i++)
            sb.Append($"Content-Type: {type}; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n");
        sb.Append("Content-Type: message/rfc822\r\n\r\n").Append(inner).Append("\r\n");
        if (r.Chance(50))
            for (var i = depth - 1; i >= 0; i--)
                sb.Append($"--b{i}--\r\n");
        return sb.ToString();
    }

    private static string ManyHeaders(string seed, int count, Rng r)
    {
        var sb = new StringBuilder();
        var name = r.Pick(["X-Flood", "Received", "To", "Final-Recipient", "Content-Type", "X-Failed-Recipients", "Subject", "Auto-Submitted"]);
        for (var i = 0; i < count; i++)
            sb.Append(name).Append(": ").Append(r.Chance(50) ? $"a{i}@b{i % 7}.example" : "v" + i).Append("\r\n");
        return r.Chance(50) ? sb + seed : InsertAfterHeaders(seed, sb.ToString());
    }

    private static string ManyParts(string seed, int count, Rng r)
    {
        var sb = new StringBuilder("From: a@b.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"p\"\r\n\r\n");
        var part = r.Pick([
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            "Content-Type: message/rfc822\r\n\r\n" + seed,
            "Content-Type: text/plain\r\n\r\n550 5.1.1 <a@b.example>: Recipient address rejected\r\n",
            "Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: x\r\nVersion: 1\r\n",
            "Content-Type: text/rfc822-headers\r\n\r\nFrom: a@b.example\r\nTo: c@d.example\r\n",
        ]);
        for (var i = 0; i < count; i++)
            sb.Append("--p\r\n").Append(part).Append("\r\n");
        if (r.Chance(50))
            sb.Append("--p--\r\n");
        return sb.ToString();
    }

    private static string Boundaries(string seed, Rng r)
    {
        var m = System.Text.RegularExpressions.Regex.Match(seed, "boundary=\"?([^\";\r\n]+)\"?", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!m.Success)
            return "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n" + seed + "\r\n----\r\n";
        var b = m.Groups[1].Value;
        return r.Next(7) switch
        {
            0 => seed.Replace("--" + b + "--", ""), // no closing delimiter
            1 => seed.Replace(m.Value, "boundary=\"" + b[..Math.Max(1, b.Length / 2)] + "\""), // a prefix of the real one
            2 => seed.Replace(m.Value, "boundary=\"\""), // empty
            3 => seed.Replace(m.Value, "boundary=\"" + new string('b', r.Between(70, 5000)) + "\""), // over RFC 2046's 70
            4 => seed.Replace("--" + b, "--" + b + "\r\n--" + b), // doubled delimiters
            5 => seed.Replace(m.Value, "boundary=\"--" + b + "\""), // shifted by the delimiter dashes
            _ => seed.Replace("--" + b, "--" + b.ToUpperInvariant()),
        };
    }

    private static string Encodings(string seed, Rng r)
    {
        var cte = r.Pick(["base64", "quoted-printable", "x-uuencode", "binary", "8bit", "bogus", "base64; x=y"]);
        var charset = r.Pick(["utf-7", "utf-32", "ucs-2", "iso-2022-jp", "x-unknown", "gb18030", "\"\"", "utf-8\0", "shift_jis", "koi8-r"]);
        var body = r.Pick([
            "====\r\nA===B\r\n!!!!\r\n", "=E9=\r\n=ZZ=0", "QUJD\r\nRE\r\n=\r\n", "begin 644 x\r\nM86)C\r\n`\r\nend\r\n", "\0\0\0\xff\xfe",
            new string('=', r.Between(1, 20000)), "+AGEAYQ-+ZZZ-", "\x1b$B$3$s\x1b(B\x1b$B",
        ]);
        var text = System.Text.RegularExpressions.Regex.Replace(seed, "(?im)^Content-Transfer-Encoding:.*$", "Content-Transfer-Encoding: " + cte);
        text = System.Text.RegularExpressions.Regex.Replace(text, "(?i)charset=\"?[^\";\r\n]*\"?", "charset=" + charset);
        if (!text.Contains("Content-Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            text = InsertAfterHeaders(text, $"Content-Transfer-Encoding: {cte}\r\nContent-Type: text/plain; charset={charset}\r\n");
        return r.Chance(50) ? text + "\r\n" + body : text.Replace("\r\n\r\n", "\r\n\r\n" + body);
    }

    private static string EightBit(string seed, Rng r)
    {
        var chars = seed.ToCharArray();
        var n = r.Between(1, Math.Max(1, chars.Length / 10));
        for (var i = 0; i < n && chars.Length > 0; i++)
            chars[r.Next(chars.Length)] = (char)r.Between(0x80, 0xFF);
        return new string(chars);
    }

    private static string InsertAfterHeaders(string message, string headers)
    {
        var end = message.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
            end = message.IndexOf("\n\n", StringComparison.Ordinal);
        return end < 0 ? headers + message : message[..(end + 1)] + "\n" + headers + message[(end + 1)..];
    }

    /// <summary>The head of one seed with the tail of another (headers of a DSN over the body of an ARF report...).</summary>
    private static byte[] Splice(Rng r)
    {
        var a = r.Pick(Seeds);
        var b = r.Pick(Seeds);
        var cut1 = r.Next(a.Length + 1);
        var cut2 = r.Next(b.Length + 1);
        return [.. a.AsSpan(0, cut1), .. b.AsSpan(cut2)];
    }

    /// <summary>A DSN or ARF skeleton whose field values and counts are generated.</summary>
    private static byte[] Synthetic(Rng r)
    {
        var sb = new StringBuilder();
        var arf = r.Chance(30);
        sb.Append("From: MAILER-DAEMON@mx.example\r\nTo: pm_bounces+0123456789abcdef0123456789abcdef-0@bounces.example\r\n");
        sb.Append("Subject: ").Append(Value(r)).Append("\r\nMIME-Version: 1.0\r\n");
        sb.Append(arf ? "Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\r\n\r\n"
            : "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n");
        sb.Append("--B\r\nContent-Type: text/plain\r\n\r\n").Append(Value(r)).Append("\r\n");
        sb.Append(arf ? "--B\r\nContent-Type: message/feedback-report\r\n\r\n" : "--B\r\nContent-Type: message/delivery-status\r\n\r\n");
        if (arf)
        {
            var fields = r.Chance(80) ? r.Between(1, 20) : r.Between(20, 3000);
            for (var i = 0; i < fields; i++)
                sb.Append(r.Pick(["Feedback-Type", "User-Agent", "Version", "Original-Rcpt-To", "Original-Mail-From", "Arrival-Date", "Source-IP", "Reported-Domain", "Reported-Uri", "Auth-Failure", "X-" + i]))
                    .Append(": ").Append(Value(r, fields < 20)).Append("\r\n");
        }
        else
        {
            sb.Append("Reporting-MTA: dns; ").Append(Value(r)).Append("\r\n");
            var groups = r.Chance(80) ? r.Between(1, 10) : r.Between(10, 5000);
            for (var g = 0; g < groups; g++)
            {
                sb.Append("\r\n");
                foreach (var f in (string[])["Final-Recipient", "Original-Recipient", "Action", "Status", "Remote-MTA", "Diagnostic-Code", "Last-Attempt-Date", "Will-Retry-Until"])
                    if (r.Chance(80))
                        sb.Append(f).Append(": ").Append(r.Chance(50) ? FieldValue(f, g, r) : Value(r, groups < 10)).Append("\r\n");
            }
        }
        sb.Append("\r\n--B\r\nContent-Type: ").Append(r.Pick(["message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"]))
            .Append("\r\n\r\nFrom: ").Append(Value(r)).Append("\r\nTo: ").Append(Value(r)).Append("\r\nMessage-ID: ").Append(Value(r)).Append("\r\n\r\nbody\r\n");
        if (r.Chance(70))
            sb.Append("--B--\r\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static string FieldValue(string field, int g, Rng r) => field switch
    {
        "Final-Recipient" or "Original-Recipient" => r.Pick(["rfc822; ", "rfc822;", "utf-8; ", "x400; ", ""]) + $"user{g}@example.com",
        "Action" => r.Pick(["failed", "delayed", "delivered", "relayed", "expanded", "FAILED", ""]),
        "Status" => r.Pick(["5.1.1", "4.4.7", "2.0.0", "5.7.606", "9.9.9", "5.", "5.1.1.1", "#5.1.1", "5.01.001", "4.999.999"]),
        "Diagnostic-Code" => r.Pick(["smtp; 550 5.1.1 user unknown", "smtp;", "X-Postfix; host said: 552", "smtp; 450-4.2.1 try later\r\n 450 4.2.1 still"]),
        _ => Value(r),
    };

    /// <summary>A field value: tokens, random characters, sometimes very long.</summary>
    public static string Value(Rng r, bool mayBeLong = true)
    {
        var sb = new StringBuilder();
        var n = r.Length(60);
        for (var i = 0; i < n; i++)
        {
            switch (r.Next(4))
            {
                case 0:
                    sb.Append(r.Pick(Tokens));
                    break;
                case 1:
                    sb.Append((char)r.Between(0x20, 0x7E));
                    break;
                case 2:
                    sb.Append(r.Pick(["a@b.example", "<x@y.example>", "550", "5.1.1", "rfc822;", "user unknown", "mailbox full", " ", "\t", "(", ")", "\\"]));
                    break;
                default:
                    sb.Append((char)r.Next(0x3000));
                    break;
            }
        }
        if (mayBeLong && r.Chance(2))
            sb.Append('v', r.Between(1000, 100_000));
        return sb.ToString();
    }

    /// <summary>Tokens and random bytes, no seed: header-like noise.</summary>
    private static byte[] TokenSoup(Rng r)
    {
        var data = new List<byte>();
        var n = r.Length(2000);
        for (var i = 0; i < n; i++)
        {
            if (r.Chance(70))
                data.AddRange(r.Pick(TokenBytes));
            else
                data.AddRange(r.Bytes(r.Between(1, 8)));
        }
        return [.. data];
    }

    private static List<byte[]> LoadSeeds()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Seeds");
        var seeds = Directory.GetFiles(dir, "*.eml").Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToList();
        if (seeds.Count == 0)
            throw new InvalidOperationException("No seed messages in " + dir);
        return seeds;
    }
}
