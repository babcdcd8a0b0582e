namespace Mailroom.Testing;

public static class TestPaths
{
    /// <summary>The repository root: the folder holding Mailroom.slnx.</summary>
    public static string RepoRoot { get; } = FindRoot(AppContext.BaseDirectory);

    public static string NewTempDirectory(string prefix = "mailroom-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The checkout the working folder is in, else the one holding this program (the bench may run a build
    /// from another checkout).</summary>
    public static string FindRepoRoot() => FindRoot(Directory.GetCurrentDirectory(), AppContext.BaseDirectory);

    private static string FindRoot(params string[] starts)
    {
        foreach (var start in starts.DefaultIfEmpty(AppContext.BaseDirectory))
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                    return dir.FullName;
        throw new MailroomProcessException("Mailroom.slnx not found above " + string.Join(" or ", starts.DefaultIfEmpty(AppContext.BaseDirectory)) + ": pass --repo DIR");
    }
}
