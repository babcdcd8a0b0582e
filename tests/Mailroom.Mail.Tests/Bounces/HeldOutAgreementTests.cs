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
    private static readonly HeldOutSet Set = new("Held-out corpus", () => Corpus.HeldOut, Corpus.HeldOutPathOf);

    [Fact]
    public void HeldOutCorpusIsInTheRepositoryWithBothHalves()
    {
        Set.AssertInTheRepositoryWithBothHalves(400, "held-out corpus");
        Assert.True(Corpus.HeldOut.Count(e => e.Split == "untouched") >= 100);
    }

    public static TheoryData<string> HeldOutFiles() => Set.Files();

    /// <summary>Every held-out file parses without relying on BounceParser's catch-all (same answer unguarded).</summary>
    [Theory]
    [MemberData(nameof(HeldOutFiles))]
    public void HeldOutFileParsesWithoutAnException(string file) => Set.AssertParsesWithoutAnException(file);

    [Fact]
    public void ClassificationAgreesOnTheDevelopmentHalfForAtLeast80Percent() => Set.AssertAgreement("dev", minimumFiles: 100, floor: 80.0);

    [Fact]
    public void ClassificationAgreesOnTheUntouchedHalfForAtLeast76Percent() => Set.AssertAgreement("untouched", minimumFiles: 100, floor: 76.0);
}
