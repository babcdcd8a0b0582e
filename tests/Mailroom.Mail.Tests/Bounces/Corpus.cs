namespace Mailroom.Mail.Tests.Bounces;

/// <summary>
/// The shared bounce/complaint corpus (read in place, never copied into the repository): env
/// <c>MAILROOM_TESTDATA</c>, else <c>../shared/testdata</c> next to the repository root (the folder
/// holding <c>Mailroom.slnx</c>, found by walking up from the test binaries), or next to one of its
/// ancestors for worktrees.
/// </summary>
public static class Corpus
{
    private static readonly Lazy<string?> RootPath = new(FindRoot);
    private static readonly Lazy<IReadOnlyList<CorpusEntry>> AllEntries = new(Load);

    public static string? Root => RootPath.Value;

    public static IReadOnlyList<CorpusEntry> Entries => AllEntries.Value;

    public static string PathOf(CorpusEntry entry) => Path.Combine(Root!, entry.File);

    private static string? FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("MAILROOM_TESTDATA");
        if (!string.IsNullOrWhiteSpace(fromEnv))
            return Directory.Exists(fromEnv) ? Path.GetFullPath(fromEnv) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                continue;
            // ../shared/testdata next to the repository; a git worktree sits one or more levels deeper
            // (e.g. /work/wt/name next to /work/main), so keep looking upwards from there.
            for (var up = dir.Parent; up is not null; up = up.Parent)
            {
                var candidate = Path.Combine(up.FullName, "shared", "testdata");
                if (File.Exists(Path.Combine(candidate, "MANIFEST.tsv")))
                    return candidate;
            }
            return null;
        }
        return null;
    }

    private static IReadOnlyList<CorpusEntry> Load()
    {
        if (Root is null)
            return [];
        var lines = File.ReadAllLines(Path.Combine(Root, "MANIFEST.tsv"));
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
                Cell("notes")));
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
    string Notes)
{
    public bool IsComplaint => File.StartsWith("complaints/", StringComparison.Ordinal);

    public override string ToString() => File;
}
