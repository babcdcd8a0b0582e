using System.Text;
using Mailroom.Contracts;
using Mailroom.Mail.Inbound;

namespace Mailroom.Mail.Tests.Inbound;

/// <summary>
/// The inbound payload (spec §10.6) from real-shaped messages, field by field: plain text, HTML only, alternative with
/// an inline image and attachments, other charsets, RFC 2047 names and RFC 2231 file names, a +hash address, Cc and
/// Bcc, a TNEF attachment, a forwarded message.
/// </summary>
public sealed class InboundParserTests
{

    private static readonly Guid Id = Guid.Parse("73e6d360-66eb-11e1-8e72-a8904824019b");
    private const string Hash = "4d6ccf2a0f4b4e1c8e2d4e6b5c7a9f10";
    private static readonly string Address = $"{Hash}@inbound.mailroom.test";

    private static InboundPayload Parse(string raw, string? rcpt = null, bool rawEmail = false, IReadOnlyList<InboundHeader>? extra = null) =>
        InboundParser.Parse(Encoding.Latin1.GetBytes(raw.ReplaceLineEndings("\r\n")),
            new InboundEnvelope("bounces@sender.example", rcpt ?? Address, extra), Id, "inbound", rawEmail);

    [Fact]
    public void PlainTextMessageGivesEveryField()
    {
        var p = Parse($"""
            Return-Path: <bounces@sender.example>
            From: "Jane Doe" <jane@sender.example>
            To: "Support Desk" <{Hash}+ticket-42@inbound.mailroom.test>
            Reply-To: help@sender.example
            Subject: Where is my order?
            Date: Fri, 4 Dec 2026 16:45:32 -0400
            Message-ID: <CAF=abc123@mail.sender.example>
            X-PM-Tag: support
            MIME-Version: 1.0
            Content-Type: text/plain; charset=us-ascii

            Hello,
            my order has not arrived.
            Jane

            """, rcpt: $"{Hash}+ticket-42@inbound.mailroom.test", extra: [new("Received-SPF", "pass (mailroom: sender.example designates 127.0.0.1 as permitted sender)")]);

        Assert.Equal("Jane Doe", p.FromName);
        Assert.Equal("jane@sender.example", p.From);
        Assert.Equal(new InboundFullAddress("jane@sender.example", "Jane Doe", ""), p.FromFull);
        Assert.Equal($"\"Support Desk\" <{Hash}+ticket-42@inbound.mailroom.test>", p.To);
        Assert.Equal([new InboundFullAddress($"{Hash}+ticket-42@inbound.mailroom.test", "Support Desk", "ticket-42")], p.ToFull);
        Assert.Equal("", p.Cc);
        Assert.Empty(p.CcFull);
        Assert.Equal("", p.Bcc);
        Assert.Empty(p.BccFull);
        Assert.Equal($"{Hash}+ticket-42@inbound.mailroom.test", p.OriginalRecipient);
        Assert.Equal("help@sender.example", p.ReplyTo);
        Assert.Equal("Where is my order?", p.Subject);
        Assert.Equal(Id, p.MessageID);
        Assert.Equal("Fri, 4 Dec 2026 16:45:32 -0400", p.Date);
        Assert.Equal("ticket-42", p.MailboxHash);
        Assert.Equal("Hello,\nmy order has not arrived.\nJane\n", p.TextBody);
        Assert.Equal("", p.HtmlBody);
        Assert.Equal("Hello,\nmy order has not arrived.\nJane", p.StrippedTextReply);
        Assert.Equal("support", p.Tag);
        Assert.Equal("inbound", p.MessageStream);
        Assert.Equal(["Received-SPF", "Return-Path", "Message-ID", "X-PM-Tag", "MIME-Version", "Content-Type"], p.Headers.Select(h => h.Name));
        Assert.Equal("<CAF=abc123@mail.sender.example>", p.Headers.Single(h => h.Name == "Message-ID").Value);
        Assert.Empty(p.Attachments);
        Assert.Null(p.RawEmail);
    }

    [Fact]
    public void RawEmailIsIncludedOnlyWhenEnabled()
    {
        var raw = $"From: a@b.example\nTo: {Address}\nSubject: x\n\nbody\n";
        var p = Parse(raw, rawEmail: true);
        Assert.Equal(raw.ReplaceLineEndings("\r\n"), p.RawEmail);
    }

    [Fact]
    public void HtmlOnlyMessageGetsATextBodyMadeFromTheHtml()
    {
        var p = Parse($$"""
            From: news@shop.example
            To: {{Address}}
            Subject: Hi
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            <html><head><style>p {color:red}</style><title>T</title></head><body><h1>Order  shipped</h1><p>Your parcel is=
             on its way.<br>Track it <a href=3D"https://shop.example/t/1">here</a>.</p><ul><li>Book</li><li>Pen</li></ul><=
            script>alert(1)</script></body></html>
            """);
        Assert.StartsWith("<html>", p.HtmlBody);
        Assert.Equal("Order shipped\n\nYour parcel is on its way.\nTrack it here (https://shop.example/t/1).\n\n- Book\n- Pen", p.TextBody);
        Assert.Equal(p.TextBody, p.StrippedTextReply);
    }

    [Fact]
    public void AlternativeWithInlineImageAndAttachmentsListsEachPart()
    {
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3 };
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.4 invoice");
        var p = Parse($"""
            From: Billing <billing@vendor.example>
            To: {Address}
            Subject: Invoice
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="mixed"

            --mixed
            Content-Type: multipart/related; boundary="rel"

            --rel
            Content-Type: multipart/alternative; boundary="alt"

            --alt
            Content-Type: text/plain; charset=utf-8

            See the logo.
            --alt
            Content-Type: text/html; charset=utf-8

            <p>See the logo <img src="cid:logo@vendor.example"></p>
            --alt--
            --rel
            Content-Type: image/png
            Content-ID: <logo@vendor.example>
            Content-Disposition: inline; filename="logo.png"
            Content-Transfer-Encoding: base64

            {Convert.ToBase64String(png)}
            --rel--
            --mixed
            Content-Type: application/pdf; name="invoice.pdf"
            Content-Disposition: attachment; filename="invoice.pdf"
            Content-Transfer-Encoding: base64

            {Convert.ToBase64String(pdf)}
            --mixed
            Content-Type: text/csv
            Content-Disposition: attachment; filename="lines.csv"

            a,b
            --mixed--
            """);
        Assert.Equal("See the logo.", p.TextBody.TrimEnd());
        Assert.Equal("<p>See the logo <img src=\"cid:logo@vendor.example\"></p>", p.HtmlBody.TrimEnd());
        Assert.Equal(3, p.Attachments.Count);
        Assert.Equal(new InboundAttachment("logo.png", Convert.ToBase64String(png), "image/png", png.Length, "logo@vendor.example"), p.Attachments[0]);
        Assert.Equal(new InboundAttachment("invoice.pdf", Convert.ToBase64String(pdf), "application/pdf", pdf.Length, ""), p.Attachments[1]);
        Assert.Equal(("lines.csv", "text/csv", "a,b"), (p.Attachments[2].Name, p.Attachments[2].ContentType,
            Encoding.ASCII.GetString(Convert.FromBase64String(p.Attachments[2].Content))));
    }

    [Fact]
    public void NonUtf8CharsetsAreDecoded()
    {
        var latin1 = Parse($"From: a@b.example\nTo: {Address}\nSubject: =?ISO-8859-1?Q?R=E9sum=E9?=\nContent-Type: text/plain; charset=iso-8859-1\n" +
                           "Content-Transfer-Encoding: 8bit\n\nCaf\u00e9 cr\u00e8me \u00e0 l'\u00e9t\u00e9\n");
        Assert.Equal("Résumé", latin1.Subject);
        Assert.Equal("Café crème à l'été", latin1.TextBody.TrimEnd());

        var koi8 = Encoding.GetEncoding("koi8-r").GetBytes("Привет, мир");
        var koi = Parse($"From: a@b.example\nTo: {Address}\nSubject: x\nContent-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: base64\n\n" +
                        Convert.ToBase64String(koi8) + "\n");
        Assert.Equal("Привет, мир", koi.TextBody);

        var sjis = Encoding.GetEncoding("iso-2022-jp").GetBytes("こんにちは");
        var jp = Parse($"From: a@b.example\nTo: {Address}\nSubject: =?ISO-2022-JP?B?{Convert.ToBase64String(Encoding.GetEncoding("iso-2022-jp").GetBytes("件名"))}?=\n" +
                       "Content-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: base64\n\n" + Convert.ToBase64String(sjis) + "\n");
        Assert.Equal("件名", jp.Subject);
        Assert.Equal("こんにちは", jp.TextBody);
    }

    [Fact]
    public void EncodedNamesAndFileNamesAreDecoded()
    {
        var p = Parse($"""
            From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <juergen@firma.example>
            To: =?ISO-8859-1?Q?Andr=E9?= <{Address}>
            Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain; charset=utf-8

            Anbei.
            --b
            Content-Type: application/pdf
            Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.pdf
            Content-Transfer-Encoding: base64

            JVBERg==
            --b
            Content-Type: application/octet-stream
            Content-Disposition: attachment;
             filename*0*=ISO-8859-1''Pr%E9sentation%20;
             filename*1="longue.txt"
            Content-Transfer-Encoding: base64

            YQ==
            --b--
            """);
        Assert.Equal("Jürgen Müller", p.FromName);
        Assert.Equal(new InboundFullAddress("juergen@firma.example", "Jürgen Müller", ""), p.FromFull);
        Assert.Equal([new InboundFullAddress(Address, "André", "")], p.ToFull);
        Assert.Equal("Grüße", p.Subject);
        Assert.Equal(["Übersicht März.pdf", "Présentation longue.txt"], p.Attachments.Select(a => a.Name));
    }

    [Fact]
    public void CcAndBccAreReportedAsThePostmarkPayloadDoes()
    {
        var cc = Parse($"From: a@b.example\nTo: Bob <bob@b.example>\nCc: \"Desk\" <{Address}>, Carol <carol+x@c.example>\nSubject: s\n\nhi\n");
        Assert.Equal($"\"Desk\" <{Address}>, \"Carol\" <carol+x@c.example>", cc.Cc);
        Assert.Equal([new InboundFullAddress(Address, "Desk", ""), new InboundFullAddress("carol+x@c.example", "Carol", "x")], cc.CcFull);
        Assert.Equal("", cc.Bcc);
        Assert.Empty(cc.BccFull);

        // Our address in neither To nor Cc: it was a Bcc target; the envelope recipient is the Bcc.
        var bcc = Parse($"From: a@b.example\nTo: Bob <bob@b.example>\nSubject: s\n\nhi\n", rcpt: $"{Hash}+crm@inbound.mailroom.test");
        Assert.Equal($"{Hash}+crm@inbound.mailroom.test", bcc.Bcc);
        Assert.Equal([new InboundFullAddress($"{Hash}+crm@inbound.mailroom.test", "", "crm")], bcc.BccFull);
        Assert.Equal("crm", bcc.MailboxHash);
    }

    [Fact]
    public void TnefAttachmentIsUnpackedIntoItsFiles()
    {
        var report = Encoding.ASCII.GetBytes("quarterly figures");
        var tnef = Tnef(("report.txt", report), ("notes.bin", [1, 2, 3, 4]));
        var p = Parse($"""
            From: Outlook User <user@corp.example>
            To: {Address}
            Subject: Figures
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain; charset=us-ascii

            Attached.
            --b
            Content-Type: application/ms-tnef; name="winmail.dat"
            Content-Disposition: attachment; filename="winmail.dat"
            Content-Transfer-Encoding: base64

            {Convert.ToBase64String(tnef)}
            --b--
            """);
        Assert.Equal(["report.txt", "notes.bin"], p.Attachments.Select(a => a.Name));
        Assert.Equal(Convert.ToBase64String(report), p.Attachments[0].Content);
        Assert.Equal(report.Length, p.Attachments[0].ContentLength);
        Assert.Equal(4, p.Attachments[1].ContentLength);
    }

    [Fact]
    public void ForwardedMessageIsOneAttachment()
    {
        var p = Parse($"""
            From: a@b.example
            To: {Address}
            Subject: Fwd
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain

            See below.
            --b
            Content-Type: message/rfc822

            From: x@y.example
            Subject: Original
            Content-Type: multipart/alternative; boundary="c"

            --c
            Content-Type: text/plain

            inner text
            --c
            Content-Type: text/html

            <p>inner</p>
            --c--
            --b--
            """);
        Assert.Equal("See below.", p.TextBody.TrimEnd());
        Assert.Equal("", p.HtmlBody);
        var a = Assert.Single(p.Attachments);
        Assert.Equal(("Original.eml", "message/rfc822"), (a.Name, a.ContentType));
        Assert.Contains("inner text", Encoding.UTF8.GetString(Convert.FromBase64String(a.Content)));
    }

    /// <summary>A TNEF stream (MS-OXTNEF §2.1.3): signature, key, the version and code page attributes, then per file
    /// attAttachRendData, attAttachTitle and attAttachData, each attribute with its checksum.</summary>
    internal static byte[] Tnef(params (string Name, byte[] Data)[] files)
    {
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(0x223E9F78u);
        w.Write((ushort)0x0001);
        void Attr(byte level, uint id, byte[] data)
        {
            w.Write(level);
            w.Write(id);
            w.Write((uint)data.Length);
            w.Write(data);
            w.Write((ushort)(data.Sum(b => b) & 0xFFFF));
        }
        Attr(1, 0x00089006, BitConverter.GetBytes(0x00010000u));      // attTnefVersion
        Attr(1, 0x00069007, [0xE4, 0x04, 0, 0, 0, 0, 0, 0]);           // attOemCodepage 1252
        foreach (var (name, data) in files)
        {
            Attr(2, 0x00069002, new byte[14]);                         // attAttachRendData
            Attr(2, 0x00018010, Encoding.ASCII.GetBytes(name + "\0")); // attAttachTitle
            Attr(2, 0x0006800F, data);                                 // attAttachData
        }
        return ms.ToArray();
    }
}
