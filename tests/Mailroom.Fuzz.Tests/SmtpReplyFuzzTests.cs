using CsCheck;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Bounces;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// The SMTP reply readers on hostile text: the classifier that Delivery calls on every remote reply, the enhanced
/// status code (RFC 3463) parser and the reply-text helpers the bounce readers use. None documents an exception.
/// Budget weight (out of 60): 4.
/// </summary>
public sealed class SmtpReplyFuzzTests
{
    private static readonly Gen<int> Codes = Gen.OneOf<int>(Gen.OneOf(0, 250, 421, 450, 451, 452, 550, 551, 552, 553, 554, 571), Gen.Int);
    private static readonly Gen<string?> Statuses = Gen.OneOf<string?>(
        Gen.OneOf<string?>(null, "", "5.1.1", "4.2.2", "2.0.0", "5.7.606", "5.", "#5.1.1", "5.1.1.1", "9.9.9", "5.999.999", "5.1000.1"),
        TextInputs.Text.Select(s => (string?)s));

    [Fact]
    public void SmtpReplyReadersNeverThrowOnHostileReplies() =>
        Fuzzer.Check("smtp-reply", 4, Gen.Select(Codes, Statuses, TextInputs.Text),
            v => System.Text.Encoding.UTF8.GetBytes($"{v.Item1}\n{v.Item2}\n{v.Item3}"), v => CheckReply(v.Item1, v.Item2, v.Item3));

    internal static void CheckReply(int code, string? status, string text)
    {
        var type = SmtpReplyClassifier.Classify(code, status, text);
        Assert.True(Enum.IsDefined(type));
        if (EnhancedStatusCode.TryParse(status, out var parsed))
            Assert.Contains(parsed.Class, (int[])[2, 4, 5]);
        if (EnhancedStatusCode.Find(text) is { } found)
        {
            Assert.Contains(found.Class, (int[])[2, 4, 5]);
            Assert.True(found.Subject is >= 0 and <= 999 && found.Detail is >= 0 and <= 999);
        }
        if (SmtpReplyText.FindSmtpCode(text) is { } smtp)
            Assert.InRange(smtp, 100, 999);
        var start = SmtpReplyText.ReplyStart(text);
        Assert.InRange(start, -1, text.Length);
        Assert.True(SmtpReplyText.Tidy(text, 500).Length <= 500);
        SmtpReplyText.SplitTyped(text);
        SmtpReplyText.CleanAddress(text);
        SmtpReplyText.StripHtml(text);
    }
}
