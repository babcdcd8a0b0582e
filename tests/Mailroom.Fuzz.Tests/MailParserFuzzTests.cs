using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Arf;
using Mailroom.Mail.Bounces;
using Mailroom.Mail.Composition;
using Mailroom.Mail.Dkim;
using MimeKit;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// The mail parsers on hostile messages (<see cref="MailInputs"/>): each returns, or throws only what it documents,
/// within the per-input deadline. Budget weights (out of 60): bounce 10, ARF 6, MIME preparation 8.
/// </summary>
public sealed class MailParserFuzzTests
{
    private static readonly Lazy<DkimKey> Key = new(() =>
        new DkimKey("mail.example.com", "fuzz", DkimKeyPair.Generate(DkimKeyPair.MinimumKeySizeBits).PrivateKeyPem));

    /// <summary>
    /// BounceParser.Parse(Stream) is documented never to throw. It is what the MX listener's report processor calls
    /// on every message received at a return path.
    /// </summary>
    [Fact]
    public void BounceParserNeverThrowsOrHangsOnHostileMessages() =>
        Fuzzer.Check("bounce", 10, MailInputs.Messages, m => m, ParseBounce);

    internal static void ParseBounce(byte[] message)
    {
        var report = BounceParser.Parse(new MemoryStream(message, writable: false));
        Assert.NotNull(report);
        Assert.NotNull(report.Recipients);
        foreach (var r in report.Recipients)
            Assert.False(string.IsNullOrEmpty(r.Email), "a recipient without an address");

        // The same without the catch-all: an exception here is one Parse swallowed (the message became
        // "not recognised"). Not a failure of the contract, but worth a note.
        MimeMessage mime;
        try
        {
            mime = MimeMessage.Load(new ParserOptions { MaxMimeDepth = NotificationParts.MaxDepth }, new MemoryStream(message, writable: false));
        }
        catch (FormatException)
        {
            return;
        }
        using (mime)
        {
            try
            {
                BounceParser.ParseCore(mime);
            }
            catch (Exception e)
            {
                throw new FuzzNote("swallowed", e);
            }
        }
    }

    /// <summary>
    /// ArfParser.Parse is documented never to throw; MimeKit's load before it throws only FormatException (the
    /// caller's to handle, as BounceParser does).
    /// </summary>
    [Fact]
    public void ArfParserNeverThrowsOrHangsOnHostileMessages() =>
        Fuzzer.Check("arf", 6, MailInputs.Messages, m => m, ParseComplaint, e => e is FormatException);

    internal static void ParseComplaint(byte[] message)
    {
        using var mime = MimeMessage.Load(new ParserOptions { MaxMimeDepth = NotificationParts.MaxDepth }, new MemoryStream(message, writable: false));
        var complaint = ArfParser.Parse(mime);
        Assert.NotNull(complaint);
        Assert.NotNull(complaint.Recipients);
    }

    /// <summary>
    /// The path of a message submitted over SMTP: ingress parses it (FormatException is its documented refusal,
    /// 554 5.6.0), reads the fields it stores and writes it in wire format; Preparation loads that again, signs it
    /// (DKIM, after a 7-bit re-encoding) and writes it. Once ingress accepted a message nothing after may throw:
    /// the message would be accepted and then fail.
    /// </summary>
    [Fact]
    public void AcceptedMessagesAlwaysPrepareAndSign() =>
        Fuzzer.Check("mime-prepare", 8, MailInputs.Messages, m => m, PrepareAsStored, e => e is FormatException && IsIngressParse(e));

    private static bool IsIngressParse(Exception e) => e.Data.Contains(IngressParse);
    private const string IngressParse = "ingress-parse";

    internal static void PrepareAsStored(byte[] data)
    {
        MimeMessage mime;
        try
        {
            mime = MimeMessage.Load(new MemoryStream(data, writable: false));
        }
        catch (FormatException e)
        {
            e.Data[IngressParse] = true;
            throw;
        }
        using (mime)
        {
            // Ingress refuses a message without exactly one valid From (550 5.1.7) before storing anything.
            var from = mime.From.Mailboxes.ToList();
            if (from.Count != 1 || !EmailAddress.IsValid(from[0].Address))
                return;
            _ = mime.Subject;
            _ = mime.Attachments.Select(a => a.ContentDisposition?.FileName ?? a.ContentType.Name ?? "").ToList();
            var stored = WireFormat.ToBytes(mime);

            using var prepared = MimeMessage.Load(new MemoryStream(stored, writable: false), persistent: true);
            DkimSigning.Sign(prepared, Key.Value, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
            using var output = new MemoryStream();
            prepared.WriteTo(FormatOptions.Default, output);
            Assert.True(output.Length > 0);
        }
    }
}
