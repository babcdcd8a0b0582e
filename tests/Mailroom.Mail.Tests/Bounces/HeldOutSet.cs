namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// One held-out set of real bounces (its manifest's entries, where its files are, the name its figures print under)
/// and the checks every such set gets. Each set was split into <c>dev</c> and <c>untouched</c> by a hash of the file
/// name before any file was read: the <c>dev</c> half prints its disagreements, the <c>untouched</c> half its figure
/// only (printing its files' details to whoever corrects the rules would stop it measuring generalisation).
/// </summary>
public sealed class HeldOutSet(string name, Func<IReadOnlyList<CorpusEntry>> entries, Func<CorpusEntry, string> pathOf)
{
    public IReadOnlyList<CorpusEntry> Entries => entries();

    /// <summary>At least <paramref name="minimum"/> entries, every file present, every entry in one of the two halves.</summary>
    public void AssertInTheRepositoryWithBothHalves(int minimum, string what)
    {
        Assert.True(Entries.Count >= minimum, $"{what} has {Entries.Count} entries");
        Assert.All(Entries, e => Assert.True(File.Exists(pathOf(e)), e.File));
        Assert.All(Entries, e => Assert.Contains(e.Split, new[] { "dev", "untouched" }));
    }

    /// <summary>The set's files, one theory case each.</summary>
    public TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Entries)
            data.Add(entry.File);
        return data;
    }

    /// <summary>The file parses without relying on BounceParser's catch-all: the unguarded parse gives the same answer.</summary>
    public void AssertParsesWithoutAnException(string file)
    {
        var entry = Entries.Single(e => e.File == file);
        var bytes = File.ReadAllBytes(pathOf(entry));
        var report = Mailroom.Mail.Bounces.BounceParser.Parse(new MemoryStream(bytes));
        using var message = MimeKit.MimeMessage.Load(new MemoryStream(bytes), TestContext.Current.CancellationToken);
        var unguarded = Mailroom.Mail.Bounces.BounceParser.ParseCore(message);
        Assert.Equal(report.Kind, unguarded.Kind);
        Assert.Equal(report.Type, unguarded.Type);
    }

    /// <summary>Measures one half, prints its figure (and the dev half's disagreements), and asserts at least
    /// <paramref name="minimumFiles"/> files stating a reason and an agreement share of at least <paramref name="floor"/> %.</summary>
    public void AssertAgreement(string split, int minimumFiles, double floor)
    {
        var half = Entries.Where(e => e.Split == split).ToList();
        var result = Agreement.Measure(half, pathOf);
        var title = $"{name}, {split} half";
        var summary = (split == "untouched" ? result.Figure(title) : result.Summary(title)) + "\n" + Agreement.AlternativeFigures(half, pathOf);
        TestContext.Current.SendDiagnosticMessage(summary);
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Assert.True(result.Files >= minimumFiles, $"only {result.Files} files");
        Assert.True(result.Share >= floor, split == "untouched" ? result.Figure(split) : result.Summary(split));
    }
}
