using System.Text;
using Mailroom.Mail.Arf;
using Mailroom.Mail.Bounces;
using MimeKit;

namespace Mailroom.Mail.Tests.Bounces;

/// <summary>Every file of the shared corpus, checked against what its source states (MANIFEST.tsv).</summary>
public class CorpusTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Corpus.Entries)
            data.Add(entry.File);
        return data;
    }

    private static CorpusEntry Entry(string file) => Corpus.Entries.Single(e => e.File == file);

    private static BounceReport ParseFile(string file)
    {
        using var stream = File.OpenRead(Path.Combine(Corpus.Root!, file));
        using var message = MimeMessage.Load(stream, TestContext.Current.CancellationToken);
        return BounceParser.Parse(message);
    }

    [Fact]
    public void CorpusIsFoundWithAllFiles()
    {
        Assert.True(Corpus.Root is not null && Directory.Exists(Corpus.Root), "corpus not found: tests/corpus of the repository");
        Assert.Equal(160, Corpus.Entries.Count);
        Assert.All(Corpus.Entries, e => Assert.True(File.Exists(Corpus.PathOf(e)), e.File));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void ParsesCorpusFile(string file)
    {
        var entry = Entry(file);
        var bytes = File.ReadAllBytes(Corpus.PathOf(entry));

        // Never throws, from a stream or from a loaded message.
        var report = BounceParser.Parse(new MemoryStream(bytes));
        Assert.Equal(report.Kind, ParseFile(file).Kind);
        using (var message = MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken))
        {
            _ = ArfParser.Parse(message);
            // No exception is swallowed on real mail: the unguarded parse gives the same answer.
            var unguarded = BounceParser.ParseCore(message);
            Assert.Equal(report.Kind, unguarded.Kind);
            Assert.Equal(report.Type, unguarded.Type);
            _ = ArfParser.TryRead(NotificationParts.Read(message));
        }

        var found = report.Recipients;
        foreach (var expected in entry.Recipients.Where(r => r.Length > 0))
            Assert.True(
                found.Any(r => r.Email.Equals(expected, StringComparison.OrdinalIgnoreCase) || (r.OriginalRecipient ?? "").Equals(expected, StringComparison.OrdinalIgnoreCase)),
                $"recipient {expected} not found; parser found [{string.Join(", ", found.Select(r => r.Email))}]");

        for (var i = 0; i < entry.Statuses.Count; i++)
        {
            if (entry.Statuses[i].Length == 0)
                continue;
            var recipient = RecipientFor(entry, report, i);
            Assert.True(recipient is not null, $"no recipient #{i} to compare status {entry.Statuses[i]} with");
            Assert.True(StatusAgrees(entry.Statuses[i], recipient),
                $"status: expected {entry.Statuses[i]}, parser {recipient.Status ?? "(none)"} (class {recipient.StatusClass}), diagnostic: {recipient.Diagnostic}");
        }

        for (var i = 0; i < entry.SmtpCodes.Count; i++)
        {
            if (entry.SmtpCodes[i].Length == 0)
                continue;
            var recipient = RecipientFor(entry, report, i);
            Assert.True(recipient is not null, $"no recipient #{i} to compare SMTP code {entry.SmtpCodes[i]} with");
            Assert.Equal(int.Parse(entry.SmtpCodes[i]), recipient.SmtpCode);
        }

        if (entry.FeedbackTypes.Count > 0)
            Assert.Equal(entry.FeedbackTypes[0], report.FeedbackType);

        if (entry.IsBounce == "1")
            Assert.True(report.IsDeliveryFailure, $"expected a delivery failure, got {report.Kind}/{report.Type}");
        else if (entry.IsBounce == "0")
            Assert.False(report.IsDeliveryFailure, $"expected not a delivery failure, got {report.Kind}/{report.Type}");
    }

    /// <summary>The parser's recipient for the manifest's i-th value: by stated recipient, else by position.</summary>
    private static BouncedRecipient? RecipientFor(CorpusEntry entry, BounceReport report, int i)
    {
        if (i < entry.Recipients.Count && entry.Recipients[i].Length > 0)
            return report.Recipients.FirstOrDefault(r => r.Email.Equals(entry.Recipients[i], StringComparison.OrdinalIgnoreCase));
        return i < report.Recipients.Count ? report.Recipients[i] : null;
    }

    /// <summary>
    /// Class and subject must agree (5.1.1 vs 5.1.x); an expected X.0.0 only states a class. The parser's
    /// status is the DSN Status field or the code in the text; a more specific code inside the remote
    /// server's diagnostic also counts (a DSN may say 5.0.0 where the remote said 5.7.1). Without any
    /// status, the class implied by the reply code or action counts.
    /// sisimai's pseudo-codes (detail ≥ 900, e.g. 5.0.911, 4.0.947) are for messages that carry no status
    /// at all; their class is sisimai's own guess (an Exim "permanent error" after a retry timeout is
    /// 4.0.947, a Gmail delay warning 5.0.947), so for those only "a failure" (class 4 or 5) is checked.
    /// </summary>
    internal static bool StatusAgrees(string expected, BouncedRecipient recipient)
    {
        if (!EnhancedStatusCode.TryParse(expected, out var want))
            return false;
        if (want.Detail >= 900)
            return recipient.StatusClass is 4 or 5;
        var classOnly = want.Subject == 0;
        var candidates = new List<EnhancedStatusCode>();
        if (EnhancedStatusCode.TryParse(recipient.Status, out var s))
            candidates.Add(s);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(recipient.Diagnostic ?? "", @"(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?!\d|\.\d)"))
            if (EnhancedStatusCode.TryParse(m.Value, out var d))
                candidates.Add(d);
        if (candidates.Count == 0)
            return recipient.StatusClass == want.Class;
        return candidates.Any(c => c.Class == want.Class && (classOnly || c.Subject == want.Subject));
    }
}

/// <summary>How often the parser's classification agrees with the reason the source states (visible corpus).</summary>
public class CorpusAgreementTests
{
    /// <remarks>Measured 141/149 (94.6 %); the floor leaves room for small parser changes, not for regressions.</remarks>
    [Fact]
    public void ClassificationAgreesWithStatedReasonsForAtLeast93Percent()
    {
        var result = Agreement.Measure(Corpus.Entries, Corpus.PathOf);
        var summary = result.Summary("Visible corpus") + "\n" + Agreement.AlternativeFigures([.. Corpus.Entries], Corpus.PathOf);
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);

        Assert.True(result.Files > 100, $"only {result.Files} files state a reason: corpus missing?");
        Assert.True(result.Share >= 93.0, summary);
    }

    [Fact]
    public void EveryStatedReasonIsMapped()
    {
        var unmapped = Corpus.Entries.Concat(Corpus.HeldOut).SelectMany(e => e.Reasons).Where(r => r.Length > 0 && !SourceReasonMapping.Map.ContainsKey(r)).Distinct().ToList();
        Assert.Empty(unmapped);
    }
}

/// <summary>Complaints: every file of <c>complaints/</c> is a spam complaint, with the recipient where stated.</summary>
public class CorpusComplaintTests
{
    public static TheoryData<string> ComplaintFiles()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Corpus.Entries.Where(e => e.IsComplaint))
            data.Add(entry.File);
        return data;
    }

    [Theory]
    [MemberData(nameof(ComplaintFiles))]
    public void ComplaintFileIsASpamComplaint(string file)
    {
        var entry = Corpus.Entries.Single(e => e.File == file);
        using var stream = File.OpenRead(Corpus.PathOf(entry));
        using var message = MimeMessage.Load(stream, TestContext.Current.CancellationToken);

        var complaint = ArfParser.Parse(message);
        Assert.True(complaint.IsComplaint, $"format {complaint.Format}");
        Assert.Equal(BounceType.SpamComplaint, complaint.Type);
        if (entry.FeedbackTypes.Count > 0)
            Assert.Equal(entry.FeedbackTypes[0], complaint.FeedbackType);
        foreach (var expected in entry.Recipients.Where(r => r.Length > 0))
            Assert.Contains(expected, complaint.Recipients, StringComparer.OrdinalIgnoreCase);

        var report = BounceParser.Parse(message);
        Assert.Equal(BounceType.SpamComplaint, report.Type);
        Assert.All(report.Recipients, r => Assert.Equal(BounceType.SpamComplaint, r.Type));
        foreach (var expected in entry.Recipients.Where(r => r.Length > 0))
            Assert.Contains(report.Recipients, r => r.Email.Equals(expected, StringComparison.OrdinalIgnoreCase));
    }
}
