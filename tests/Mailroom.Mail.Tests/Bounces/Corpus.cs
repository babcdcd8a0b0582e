namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// The bounce/complaint corpus kept in the repository under <c>tests/corpus</c> (the visible set, its
/// <c>MANIFEST.tsv</c>) and <c>tests/corpus/heldout</c> (bounces the rules were not written from, with their
/// own manifest). The repository root is the folder holding <c>Mailroom.slnx</c>, found by walking up from the
/// test binaries; nothing outside the repository is read.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<string?> RepositoryRoot = new(FindRepositoryRoot);
    private static readonly Lazy<IReadOnlyList<CorpusEntry>> AllEntries = new(() => Load(Root));
    private static readonly Lazy<IReadOnlyList<CorpusEntry>> HeldOutEntries = new(() => Load(HeldOutRoot));
    private static readonly Lazy<IReadOnlyList<CorpusEntry>> SecondHeldOutEntries = new(() => Load(SecondHeldOutRoot));
    private static readonly Lazy<IReadOnlyList<CorpusEntry>> ThirdHeldOutEntries = new(() => Load(ThirdHeldOutRoot));

    /// <summary><c>tests/corpus</c> of this repository, or null when the test binaries run outside a checkout.</summary>
    public static string? Root => RepositoryRoot.Value is { } repo ? Path.Combine(repo, "tests", "corpus") : null;

    /// <summary><c>tests/corpus/heldout</c>: real bounces the classification rules were not written from.</summary>
    public static string? HeldOutRoot => Root is { } root ? Path.Combine(root, "heldout") : null;

    /// <summary><c>tests/corpus/heldout-mdsbp</c>: a second source (Mail::DeliveryStatus::BounceParser's corpus) the rules were not written from.</summary>
    public static string? SecondHeldOutRoot => Root is { } root ? Path.Combine(root, "heldout-mdsbp") : null;

    /// <summary><c>tests/corpus/heldout-third</c>: sisimai samples published or given a stated reason after the first held-out set was taken.</summary>
    public static string? ThirdHeldOutRoot => Root is { } root ? Path.Combine(root, "heldout-third") : null;

    public static IReadOnlyList<CorpusEntry> Entries => AllEntries.Value;

    public static IReadOnlyList<CorpusEntry> ThirdHeldOut => ThirdHeldOutEntries.Value;

    public static string ThirdHeldOutPathOf(CorpusEntry entry) => Path.Combine(ThirdHeldOutRoot!, entry.File);

    public static IReadOnlyList<CorpusEntry> SecondHeldOut => SecondHeldOutEntries.Value;

    public static string SecondHeldOutPathOf(CorpusEntry entry) => Path.Combine(SecondHeldOutRoot!, entry.File);

    public static IReadOnlyList<CorpusEntry> HeldOut => HeldOutEntries.Value;

    public static string PathOf(CorpusEntry entry) => Path.Combine(Root!, entry.File);

    public static string HeldOutPathOf(CorpusEntry entry) => Path.Combine(HeldOutRoot!, entry.File);

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                return dir.FullName;
        return null;
    }

    private static IReadOnlyList<CorpusEntry> Load(string? root)
    {
        if (root is null || !File.Exists(Path.Combine(root, "MANIFEST.tsv")))
            return [];
        var lines = File.ReadAllLines(Path.Combine(root, "MANIFEST.tsv"));
        var header = lines[0].Split('\t');
        int Col(string name) => Array.IndexOf(header, name);
        var entries = new List<CorpusEntry>();
        foreach (var line in lines.Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var cells = line.Split('\t');
            string Cell(string name) => Col(name) is var i and >= 0 && i < cells.Length ? cells[i].Trim() : "";
            entries.Add(new CorpusEntry(
                Cell("file"),
                Split(Cell("expected_reason")),
                Split(Cell("expected_recipient")),
                Split(Cell("expected_status")),
                Split(Cell("expected_smtp_code")),
                Split(Cell("expected_feedback_type")),
                Cell("expected_is_bounce"),
                Cell("notes"),
                Cell("split")));
        }
        return entries;
    }

    /// <summary>Multiple recipients are '|'-separated; an empty cell is an empty list, an empty slot an empty string.</summary>
    private static IReadOnlyList<string> Split(string cell) =>
        cell.Length == 0 ? [] : cell.Split('|').Select(v => v.Trim()).ToArray();
}

/// <summary>One MANIFEST.tsv row. Lists hold one value per recipient, in the source's order.</summary>
public sealed record CorpusEntry(
    string File,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> Recipients,
    IReadOnlyList<string> Statuses,
    IReadOnlyList<string> SmtpCodes,
    IReadOnlyList<string> FeedbackTypes,
    string IsBounce,
    string Notes,
    string Split = "")
{
    public bool IsComplaint => File.StartsWith("complaints/", StringComparison.Ordinal);

    public override string ToString() => File;
}
