namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Agreement on tests/corpus/heldout: real bounces the rules were not written from (sisimai/set-of-emails
/// samples outside the visible corpus, with go-sisimai's stated reasons). The split was fixed by a hash of
/// the file name before any file was read: rules were corrected after looking at <c>dev</c> failures only;
/// the <c>untouched</c> half measures generalisation. The target was 95 %; measured (once, after the rules were
/// final): dev 186/240 (77.5 %), untouched 168/215 (78.1 %), up from 64.6 % and 69.3 % before that work. A second
/// rework (RFC 5321 stage and reply-class rules, transcript reading, DSN group splitting) moved dev to 193/240
/// (80.4 %) and untouched to 167/215 (77.7 %): no generalisation gain (src/Mailroom.Mail/Bounces/README.md). A
/// language-independent Google Groups rule then gave dev 201/240 (83.8 %) and untouched 170/215 (79.1 %). Most of
/// the remaining disagreement is vocabulary, not misreading: sisimai calls an "unknown user" refusal "filtered"
/// when it believes the recipient's filter answered so (after DATA, or at Japanese carriers), which the mapping
/// sends to Blocked while Mailroom follows the reply (HardBounce); see src/Mailroom.Mail/Bounces/README.md. The
/// floors below guard against regressions; they are not the target.
/// </summary>
public class HeldOutAgreementTests
{
    private static Agreement.Result MeasureSplit(string split)
    {
        var entries = Corpus.HeldOut.Where(e => e.Split == split).ToList();
        var result = Agreement.Measure(entries, Corpus.HeldOutPathOf);
        // The untouched half reports its figure only: printing its disagreements would show its files' details
        // to whoever corrects the rules, and it would stop measuring generalisation.
        var summary = (split == "untouched" ? result.Figure($"Held-out corpus, {split} half") : result.Summary($"Held-out corpus, {split} half"))
            + "\n" + Agreement.AlternativeFigures(entries, Corpus.HeldOutPathOf);
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        return result;
    }

    [Fact]
    public void HeldOutCorpusIsInTheRepositoryWithBothHalves()
    {
        Assert.True(Corpus.HeldOut.Count >= 400, $"held-out corpus has {Corpus.HeldOut.Count} entries");
        Assert.All(Corpus.HeldOut, e => Assert.True(File.Exists(Corpus.HeldOutPathOf(e)), e.File));
        Assert.All(Corpus.HeldOut, e => Assert.Contains(e.Split, new[] { "dev", "untouched" }));
        Assert.True(Corpus.HeldOut.Count(e => e.Split == "untouched") >= 100);
    }

    public static TheoryData<string> HeldOutFiles()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Corpus.HeldOut)
            data.Add(entry.File);
        return data;
    }

    /// <summary>Every held-out file parses without relying on BounceParser's catch-all (same answer unguarded).</summary>
    [Theory]
    [MemberData(nameof(HeldOutFiles))]
    public void HeldOutFileParsesWithoutAnException(string file)
    {
        var entry = Corpus.HeldOut.Single(e => e.File == file);
        var bytes = File.ReadAllBytes(Corpus.HeldOutPathOf(entry));
        var report = Mailroom.Mail.Bounces.BounceParser.Parse(new MemoryStream(bytes));
        using var message = MimeKit.MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken);
        var unguarded = Mailroom.Mail.Bounces.BounceParser.ParseCore(message);
        Assert.Equal(report.Kind, unguarded.Kind);
        Assert.Equal(report.Type, unguarded.Type);
    }

    [Fact]
    public void ClassificationAgreesOnTheDevelopmentHalfForAtLeast80Percent()
    {
        var result = MeasureSplit("dev");
        Assert.True(result.Files >= 100, $"only {result.Files} files");
        Assert.True(result.Share >= 80.0, result.Summary("dev"));
    }

    [Fact]
    public void ClassificationAgreesOnTheUntouchedHalfForAtLeast76Percent()
    {
        var result = MeasureSplit("untouched");
        Assert.True(result.Files >= 100, $"only {result.Files} files");
        Assert.True(result.Share >= 76.0, result.Figure("untouched"));
    }
}
