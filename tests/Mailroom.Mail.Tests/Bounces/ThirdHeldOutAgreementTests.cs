namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// Agreement on tests/corpus/heldout-third: sisimai samples that entered set-of-emails, or got a stated reason in
/// sisimai's own tests, after the first held-out set was taken, none byte-identical to a file of the other sets.
/// Split by a hash of the upstream file name before any file was read; the <c>dev</c> half prints its
/// disagreements, the <c>untouched</c> half its figure only.
/// </summary>
public class ThirdHeldOutAgreementTests
{
    private static readonly HeldOutSet Set = new("Third held-out set (later sisimai samples)", () => Corpus.ThirdHeldOut, Corpus.ThirdHeldOutPathOf);

    [Fact]
    public void ThirdHeldOutSetIsInTheRepositoryWithBothHalvesAndNoDuplicates()
    {
        Set.AssertInTheRepositoryWithBothHalves(20, "third held-out set");
        var others = Corpus.Entries.Select(e => Corpus.PathOf(e))
            .Concat(Corpus.HeldOut.Select(Corpus.HeldOutPathOf))
            .Concat(Corpus.SecondHeldOut.Select(Corpus.SecondHeldOutPathOf))
            .Select(path => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(path))))
            .ToHashSet();
        Assert.All(Corpus.ThirdHeldOut, e => Assert.DoesNotContain(
            Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(Corpus.ThirdHeldOutPathOf(e)))), others));
        Assert.All(Corpus.ThirdHeldOut, e => Assert.All(e.Reasons, r => Assert.True(SourceReasonMapping.Map.ContainsKey(r), r)));
    }

    public static TheoryData<string> Files() => Set.Files();

    [Theory]
    [MemberData(nameof(Files))]
    public void ThirdHeldOutFileParsesWithoutAnException(string file) => Set.AssertParsesWithoutAnException(file);

    // Measured once with the final rules: dev 7/8 (87.5 %, after its 2 failures were read and 1 fixed), untouched 12/15
    // (80.0 %, the same with the rules before this set was taken). Floors allow one file of slack; they guard against
    // regressions and are not the target (95 % on unseen files).
    [Fact]
    public void ClassificationAgreesOnTheThirdDevelopmentHalf() => Set.AssertAgreement("dev", minimumFiles: 8, floor: 75.0);

    [Fact]
    public void ClassificationAgreesOnTheThirdUntouchedHalf() => Set.AssertAgreement("untouched", minimumFiles: 15, floor: 73.0);
}
