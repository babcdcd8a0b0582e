namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Agreement on tests/corpus/heldout-third: sisimai samples that entered set-of-emails, or got a stated reason in
/// sisimai's own tests, after the first held-out set was taken, none byte-identical to a file of the other sets.
/// Split by a hash of the upstream file name before any file was read; the <c>dev</c> half prints its
/// disagreements, the <c>untouched</c> half its figure only.
/// </summary>
public class ThirdHeldOutAgreementTests
{
    private static Agreement.Result MeasureSplit(string split)
    {
        var entries = Corpus.ThirdHeldOut.Where(e => e.Split == split).ToList();
        var result = Agreement.Measure(entries, Corpus.ThirdHeldOutPathOf);
        var name = $"Third held-out set (later sisimai samples), {split} half";
        var summary = (split == "untouched" ? result.Figure(name) : result.Summary(name)) + "\n" + Agreement.AlternativeFigures(entries, Corpus.ThirdHeldOutPathOf);
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        return result;
    }

    [Fact]
    public void ThirdHeldOutSetIsInTheRepositoryWithBothHalvesAndNoDuplicates()
    {
        Assert.True(Corpus.ThirdHeldOut.Count >= 20, $"third held-out set has {Corpus.ThirdHeldOut.Count} entries");
        Assert.All(Corpus.ThirdHeldOut, e => Assert.True(File.Exists(Corpus.ThirdHeldOutPathOf(e)), e.File));
        Assert.All(Corpus.ThirdHeldOut, e => Assert.Contains(e.Split, new[] { "dev", "untouched" }));
        var others = Corpus.Entries.Select(e => Corpus.PathOf(e))
            .Concat(Corpus.HeldOut.Select(Corpus.HeldOutPathOf))
            .Concat(Corpus.SecondHeldOut.Select(Corpus.SecondHeldOutPathOf))
            .Select(path => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(path))))
            .ToHashSet();
        Assert.All(Corpus.ThirdHeldOut, e => Assert.DoesNotContain(
            Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(Corpus.ThirdHeldOutPathOf(e)))), others));
        Assert.All(Corpus.ThirdHeldOut, e => Assert.All(e.Reasons, r => Assert.True(SourceReasonMapping.Map.ContainsKey(r), r)));
    }

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Corpus.ThirdHeldOut)
            data.Add(entry.File);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ThirdHeldOutFileParsesWithoutAnException(string file)
    {
        var entry = Corpus.ThirdHeldOut.Single(e => e.File == file);
        var bytes = File.ReadAllBytes(Corpus.ThirdHeldOutPathOf(entry));
        var report = Mailroom.Mail.Bounces.BounceParser.Parse(new MemoryStream(bytes));
        using var message = MimeKit.MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken);
        var unguarded = Mailroom.Mail.Bounces.BounceParser.ParseCore(message);
        Assert.Equal(report.Type, unguarded.Type);
    }

    // Measured once with the final rules: dev 7/8 (87.5 %, after its 2 failures were read and 1 fixed), untouched 12/15
    // (80.0 %, the same with the rules before this set was taken). Floors allow one file of slack; they guard against
    // regressions and are not the target (95 % on unseen files).
    [Fact]
    public void ClassificationAgreesOnTheThirdDevelopmentHalf()
    {
        var result = MeasureSplit("dev");
        Assert.True(result.Files >= 8, $"only {result.Files} files");
        Assert.True(result.Share >= 75.0, result.Summary("dev"));
    }

    [Fact]
    public void ClassificationAgreesOnTheThirdUntouchedHalf()
    {
        var result = MeasureSplit("untouched");
        Assert.True(result.Files >= 15, $"only {result.Files} files");
        Assert.True(result.Share >= 73.0, result.Figure("untouched"));
    }
}
