using MimeKit;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// Reports as remote systems mail them back to a message's return path (its VERP address): a delivery status
/// notification (RFC 3464) and an abuse feedback report (RFC 5965), each carrying the original message.
/// </summary>
public static class ReportMail
{
    /// <summary>An RFC 3464 DSN from mx.example.net about <paramref name="recipient"/>: the §2.2 per-message fields, then
    /// the §2.3 per-recipient fields (<paramref name="action"/>, <paramref name="status"/>, an SMTP diagnostic).</summary>
    public static MimeMessage Dsn(string to, string recipient, string status, string diagnostic, byte[] original, string action = "failed",
        string subject = "Undelivered Mail Returned to Sender", string text = "Your message could not be delivered.")
    {
        var fields = $"Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n";
        return Report(new MailboxAddress("Mail Delivery System", "mailer-daemon@mx.example.net"), to, subject, "delivery-status", text, fields, original);
    }

    /// <summary>An RFC 5965 abuse report from an ISP's feedback loop: the §3.1 required fields and §3.2 Original-Rcpt-To.</summary>
    public static MimeMessage Arf(string to, string recipient, byte[] original)
    {
        var fields = $"Feedback-Type: abuse\r\nUser-Agent: ExampleFBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: <{recipient}>\r\n";
        return Report(new MailboxAddress("Abuse desk", "fbl@isp.example.net"), to, "Complaint about message", "feedback-report", "This is an email abuse report.", fields, original);
    }

    /// <summary>A multipart/report (RFC 6522): a human-readable part, the machine-readable fields, the original message.</summary>
    private static MimeMessage Report(MailboxAddress from, string to, string subject, string reportType, string text, string fields, byte[] original)
    {
        var m = new MimeMessage();
        m.From.Add(from);
        m.To.Add(MailboxAddress.Parse(to));
        m.Subject = subject;
        var report = new MultipartReport(reportType);
        report.Add(new TextPart("plain") { Text = text });
        report.Add(new MimePart("message", reportType) { Content = new MimeContent(new MemoryStream(Encoding.ASCII.GetBytes(fields))) });
        report.Add(new MessagePart { Message = MimeMessage.Load(new MemoryStream(original)) });
        m.Body = report;
        return m;
    }
}
