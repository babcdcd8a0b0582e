using System.Text;
using Mailroom.Mail.Bounces;
using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;
using Mailroom.Fuzz.Tests.Harness;
using Mailroom.Mail.Dkim;
using MimeKit;
using Xunit;

namespace Mailroom.Fuzz.Tests;

/// <summary>
/// Inputs the harness found (kept in <c>Regressions/</c>, named <c>target-kind-hash</c> as the harness saved them,
/// reduced where the original was large), replayed through the target that found them, plus what each fix changed.
/// </summary>
public sealed class RegressionTests
{
    private static byte[] Input(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Regressions", name));

    public static TheoryData<string> Saved => [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Regressions"), "*.eml")
        .Concat(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Regressions"), "*.txt"))
        .Concat(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Regressions"), "*.json"))
        .Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    /// <summary>Every saved input passes the properties of the target that found it.</summary>
    [Theory]
    [MemberData(nameof(Saved))]
    public void SavedInputPassesItsTarget(string name) => Fuzzer.TolerateLoad(() => Replay(name));

    private static void Replay(string name)
    {
        var data = Input(name);
        if (name.StartsWith("mime-prepare-", StringComparison.Ordinal))
            MailParserFuzzTests.PrepareAsStored(data);

        else if (name.StartsWith("arf-", StringComparison.Ordinal))
            MailParserFuzzTests.ParseComplaint(data);
        else if (name.StartsWith("composer-", StringComparison.Ordinal))
        {
            try
            {
                ComposerFuzzTests.Replay(data);
            }
            catch (CompositionException)
            {
                // Refused: the composer's documented answer.
            }
        }
        else if (name.StartsWith("bounce-text-", StringComparison.Ordinal))
            BounceTextFuzzTests.ReadText(Encoding.UTF8.GetString(data));
        else if (name.StartsWith("bounce-", StringComparison.Ordinal))
            MailParserFuzzTests.ParseBounce(data);
        else if (name.StartsWith("smtp-reply-", StringComparison.Ordinal))
            SmtpReplyFuzzTests.CheckReply(0, null, Encoding.UTF8.GetString(data));
        else
            Assert.Fail($"No target for the saved input {name}.");
    }

    /// <summary>
    /// mime-prepare hang: a submitted message with 49,000 Content-Type fields took 71 s to DKIM-sign (the signer
    /// looks each h= entry up by scanning the headers). Reduced to 300 fields here; the signature now names each
    /// field at most <see cref="DkimSigning.MaxInstancesPerField"/> times.
    /// </summary>
    [Fact]
    public void RepeatedSignedFieldsAreSignedAFewTimesNotOncePerInstance()
    {
        using var message = MimeMessage.Load(new MemoryStream(Input("mime-prepare-hang-8a4abb6fd050.eml")));
        Assert.True(message.Body!.Headers.Count(h => h.Id == HeaderId.ContentType) > 100);
        var names = DkimSigning.HeadersToSign(message);
        Assert.Equal(DkimSigning.MaxInstancesPerField, names.Count(n => n == "Content-Type"));
    }

    /// <summary>
    /// smtp-reply RegexMatchTimeoutException in FindSmtpCode: 100,000 empty lines. The lead-in pattern let "^\s*"
    /// cross line breaks, so each line rescanned all the blank lines after it (quadratic) until the 1 s timeout.
    /// </summary>
    [Fact]
    public void ReplyCodeSearchOverManyEmptyLinesFinishes() => Fuzzer.TolerateLoad(() =>
    {
        var text = Encoding.UTF8.GetString(Input("smtp-reply-RegexMatchTimeoutException-1e89bbee777a.txt"));
        Assert.Contains(new string('\n', 50_000), text);
        Assert.Null(SmtpReplyText.FindSmtpCode(text + new string('\n', 50_000)));
        Assert.Equal(550, SmtpReplyText.FindSmtpCode(new string('\n', 50_000) + "  550 mailbox unavailable"));
        Assert.Equal(550, SmtpReplyText.FindSmtpCode("host said:\n    550 mailbox unavailable"));
        Assert.Equal(451, SmtpReplyText.FindSmtpCode("smtp; 451 try later\n550 no"));
        Assert.Equal(0, SmtpReplyText.ReplyStart("550 no\nsaid: 451"));

        // The same with blanks on one line (found by bounce-text: 190,000 tabs): the code search must not time out.
        var tabs = Encoding.UTF8.GetString(Input("bounce-text-RegexMatchTimeoutException-3923e66c54af.txt"));
        SmtpReplyText.FindSmtpCode(tabs);
        SmtpReplyText.ReplyStart(tabs);
    });

    /// <summary>
    /// smtp-reply RegexMatchTimeoutException in StripHtml: 194 K characters with many "&lt;" and few "&gt;". The tag
    /// patterns rescanned up to the next "&gt;" from every "&lt;" (and "&lt;script" to the end of the text): quadratic.
    /// </summary>
    [Fact]
    public void HtmlStrippingOfUnclosedTagsFinishes() => Fuzzer.TolerateLoad(() =>
    {
        var text = Encoding.UTF8.GetString(Input("smtp-reply-RegexMatchTimeoutException-abe910dd92f8.txt"));
        SmtpReplyText.StripHtml(text);
        foreach (var unit in (string[])["<", "<script", "<style x", "<br", "</p", "<a "])
            Assert.Equal(unit.Length * 20_000, SmtpReplyText.StripHtml(string.Concat(Enumerable.Repeat(unit, 20_000))).Length);

        Assert.Equal("a   b \nc\nd \u00a0e", SmtpReplyText.StripHtml("a <script>x</script> b <br>c<br/>d <i>&nbsp;</i>e"));
        Assert.Equal("1 < 2  ", SmtpReplyText.StripHtml("1 < 2 <style type=x>p{}</STYLE >"));
    });

    /// <summary>
    /// bounce-text (and bounce, swallowed) RegexMatchTimeoutException in SplitAtMarker: a line of 190,000 tabs (or
    /// 165,000 spaces). The marker pattern's "[ \t]*-*[ \t]*" could split the blanks between its two runs in every
    /// way: quadratic. The bounce was "not recognised" after a second of CPU.
    /// </summary>
    [Fact]
    public void CopyMarkerSearchOverALongBlankLineFinishes() => Fuzzer.TolerateLoad(() =>
    {
        var text = Encoding.UTF8.GetString(Input("bounce-text-RegexMatchTimeoutException-3923e66c54af.txt"));
        Assert.Contains(new string('\t', 100_000), text);
        Assert.Null(OriginalMessageReader.SplitAtMarker(text, allowHeaderBlockMarker: false).Quoted);
        Assert.Null(OriginalMessageReader.SplitAtMarker(new string(' ', 50_000) + "\nno marker", allowHeaderBlockMarker: false).Quoted);

        var (report, quoted) = OriginalMessageReader.SplitAtMarker("Failed.\n  ------ This is a copy of the message, including all the headers. ------\nFrom: a@b.example\n", false);
        Assert.Equal("Failed.\n", report);
        Assert.Equal("From: a@b.example\n", quoted);
        Assert.NotNull(OriginalMessageReader.SplitAtMarker("x\n\t Original message follows\n", false).Quoted);
    });

    /// <summary>
    /// composer: a From display name of 39,000 characters with a ':' in it was written as one quoted word on one
    /// 39,031-character line (RFC 5322 §2.1.1 allows 998). The composer now refuses it as it refuses such a Subject.
    /// </summary>
    [Fact]
    public void AnUnfoldableDisplayNameIsRefusedNotWrittenOnOneLongLine()
    {
        var composer = new MessageComposer(new MessageComposerOptions { MessageIdDomain = "mtasv.example.net" });
        var saved = System.Text.Json.JsonSerializer.Deserialize<ComposerFuzzTests.Case>(Input("composer-TrueException-6e4fcc7c699d.json"))!;
        var e = Assert.Throws<CompositionException>(() => composer.Compose(saved.Spec, saved.Prepare));
        Assert.Equal("From", e.Field);

        var spec = saved.Spec with { From = new NamedAddress("Shop", "shop@example.com"), To = [new NamedAddress("Re:" + new string('a', 2000), "jo@example.org")] };
        Assert.Equal("To", Assert.Throws<CompositionException>(() => composer.Compose(spec)).Field);
        // A long name with spaces folds, and is kept.
        composer.Compose(spec with { To = [new NamedAddress(string.Join(' ', Enumerable.Repeat("Jo", 2000)), "jo@example.org")] });
    }
}
