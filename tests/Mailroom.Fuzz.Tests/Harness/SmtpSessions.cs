using System.Text;
using CsCheck;

namespace Mailroom.Fuzz.Tests.Harness;

/// <summary>
/// Command streams for the SMTP listener: a valid submission's lines (EHLO, AUTH with the real token, MAIL, RCPT,
/// DATA, content, the final dot) with commands shuffled in, repeated, dropped or made hostile, the content replaced by
/// a hostile message, byte-level mutations of the whole stream, and plain random bytes.
/// </summary>
public static class SmtpSessions
{
    private static readonly string[] Commands =
    [
        "EHLO client.test", "HELO client.test", "EHLO", "EHLO [127.0.0.1]", "EHLO \u00e9\u00e9", "MAIL FROM:<bounces@app.example>",
        "MAIL FROM:<>", "MAIL FROM:<bounces@app.example> SIZE=99999999999999999999", "MAIL FROM:<a@b.example> BODY=8BITMIME SMTPUTF8",
        "MAIL FROM:<a@b.example> SIZE=-1", "MAIL FROM:<a@b.example> AUTH=<>", "MAIL FROM:a@b.example", "MAIL FROM:<<<>>>", "MAIL FROM:<\"a b\"@b.example>",
        "MAIL FROM:", "MAIL", "RCPT TO:<jo@example.net>", "RCPT TO:<postmaster>", "RCPT TO:<a@[127.0.0.1]>", "RCPT TO:<@relay.example:jo@example.net>",
        "RCPT TO:<jo@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;jo@example.net", "RCPT TO:", "RCPT TO:<\u00e9@\u00e9.example>",
        "DATA", "BDAT 10 LAST", "BDAT 99999999999", "RSET", "NOOP", "NOOP x y z", "VRFY jo", "EXPN list", "HELP", "QUIT", "STARTTLS", "STARTTLS x",
        "AUTH PLAIN", "AUTH PLAIN =", "AUTH PLAIN ####", "AUTH PLAIN AGpvAGpv", "AUTH LOGIN", "AUTH LOGIN am8=", "AUTH CRAM-MD5", "AUTH XOAUTH2 dGVzdA==",
        "AUTH", "*", "PROXY TCP4 127.0.0.1 127.0.0.1 1 2", "GET / HTTP/1.1", "\u0000\u0000", "", " ", ".", "..", "ETRN x", "TURN", "XCLIENT NAME=x",
    ];

    /// <summary>The stream, as bytes, for a session authenticated (when the script says so) with <paramref name="token"/>.</summary>
    public static Gen<byte[]> Streams(string token) => new GenFrom<byte[]>(r => Stream(r, token));

    private static byte[] Stream(Rng r, string token)
    {
        if (r.Chance(5))
            return r.Bytes(r.Length(4096));
        var lines = Script(r, token);
        var text = new StringBuilder();
        foreach (var line in lines)
            text.Append(line).Append(r.Chance(97) ? "\r\n" : r.Pick(["\n", "\r", "\r\r\n", "\n\r"]));
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (r.Chance(15))
        {
            // A hostile message as the content (the ingress parser behind DATA gets it).
            var at = text.ToString().IndexOf("DATA\r\n", StringComparison.Ordinal);
            if (at >= 0)
            {
                var head = Encoding.UTF8.GetBytes(text.ToString()[..(at + 6)]);
                bytes = [.. head, .. MailInputs.Message(r), .. "\r\n.\r\nQUIT\r\n"u8];
            }
        }
        return r.Chance(25) ? MailInputs.ByteMutations(r, bytes) : bytes;
    }

    private static List<string> Script(Rng r, string token)
    {
        var plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{token}\0{token}"));
        var lines = new List<string> { r.Chance(90) ? "EHLO client.test" : r.Pick(Commands) };
        if (r.Chance(70))
            lines.Add(r.Chance(80) ? "AUTH PLAIN " + plain : r.Pick(["AUTH LOGIN", Convert.ToBase64String(Encoding.UTF8.GetBytes(token)), Convert.ToBase64String(Encoding.UTF8.GetBytes(token))]));
        var transactions = r.Chance(90) ? r.Between(1, 3) : r.Between(3, 60);
        for (var t = 0; t < transactions; t++)
        {
            lines.Add("MAIL FROM:<bounces@app.example>");
            var rcpts = r.Chance(90) ? r.Between(1, 3) : r.Between(3, 120);
            for (var i = 0; i < rcpts; i++)
                lines.Add($"RCPT TO:<jo{i}@example.net>");
            lines.Add("DATA");
            lines.Add("From: Shop <shop@mailroom.test>");
            lines.Add("To: jo@example.net");
            lines.Add("Subject: " + (r.Chance(70) ? "Hello" : MailInputs.Value(r).Replace("\r", "").Replace("\n", " ")));
            lines.Add("");
            var body = r.Chance(80) ? r.Between(1, 5) : r.Between(5, 2000);
            for (var i = 0; i < body; i++)
                lines.Add(r.Pick(["Hi there", ".", "..", ".\r", " .", "", "-- ", "\0", "From x", r.Chance(5) ? new string('x', r.Between(998, 100_000)) : "x"]));
            lines.Add(".");
        }
        // Hostile edits to the script: commands inserted, repeated, dropped, swapped, over-long.
        var edits = r.Next(8);
        for (var e = 0; e < edits; e++)
        {
            var at = r.Next(lines.Count + 1);
            switch (r.Next(6))
            {
                case 0:
                case 1:
                    lines.Insert(at, r.Pick(Commands));
                    break;
                case 2 when at < lines.Count:
                    lines.RemoveAt(at);
                    break;
                case 3 when at < lines.Count:
                    lines.InsertRange(at, Enumerable.Repeat(lines[at], r.Chance(90) ? 2 : r.Between(20, 500)));
                    break;
                case 4:
                    lines.Insert(at, r.Pick(Commands) + " " + new string('a', r.Chance(50) ? r.Between(400, 13_000) : r.Between(12_000, 40_000)));
                    break;
                default:
                    lines.Insert(at, MailInputs.Value(r));
                    break;
            }
        }
        if (r.Chance(60))
            lines.Add("QUIT");
        return lines;
    }
}
