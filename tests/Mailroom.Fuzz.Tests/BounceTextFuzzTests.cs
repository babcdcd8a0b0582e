using System.Text;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Bounces;
using MimeKit;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// The text readers behind BounceParser, called directly on hostile report text (seed bodies with mutations, long runs
/// of one unit such as empty lines or unclosed tags, free text). BounceParser's catch-all would turn an exception
/// here into "not recognised" (a lost bounce) and a regex timeout costs a second of CPU per pattern, so any exception
/// is a finding. Budget weight (out of 60): 3.
/// </summary>
public sealed class BounceTextFuzzTests
{
    private static readonly BounceAddresses.Exclusions Excluded = new(
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "sender@example.com", "MAILER-DAEMON@mx.example" },
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "bounces@example.com" });

    [Fact]
    public void BounceTextReadersNeverThrowOnHostileText() =>
        Fuzzer.Check("bounce-text", 3, TextInputs.ReportTexts, s => Encoding.UTF8.GetBytes(s), ReadText);

    internal static void ReadText(string text)
    {
        using var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@mx.example"));
        message.Subject = text.Length > 200 ? text[..200].Replace('\r', ' ').Replace('\n', ' ') : text.Replace('\r', ' ').Replace('\n', ' ');

        var (report, quoted) = OriginalMessageReader.SplitAtMarker(text, allowHeaderBlockMarker: true);
        Assert.True(report.Length <= text.Length);
        if (quoted is not null)
            OriginalMessageReader.ParseQuoted(quoted);
        var found = BounceAddresses.FindIn(text, Excluded);
        var known = found.Select(f => f.Address).Take(3).ToList();
        var paragraphs = TextBounceReader.Read(text, known, Excluded);
        foreach (var p in paragraphs)
        {
            Assert.False(string.IsNullOrEmpty(p.Email));
            TextBounceReader.ParagraphFor(text, p.Email);
        }
        TextBounceReader.LooksLikeDelay(message.Subject, text);
        TextBounceReader.LooksLikeNonDelivery(message, text);
        AutoReplyDetector.IsAutoReply(message, text);
        AutoReplyDetector.IsChallenge(message, text);
        AutoReplyDetector.IsAddressChange(message, text);
        AmazonSesNotificationReader.TryRead(text, null, null);
        FieldGroup.Parse(text);
        SmtpReplyClassifier.MatchText(text);
        SmtpReplyText.Tidy(text, 1000);
        SmtpReplyText.ReplyStart(text);
    }
}
