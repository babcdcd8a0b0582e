namespace Mailroom.Tests.Infrastructure;

public static class TestPaths
{
    /// <summary>The repository root: the folder holding Mailroom.slnx.</summary>
    public static string RepoRoot { get; } = FindRoot();

    public static string NewTempDirectory(string prefix = "mailroom-test")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Mailroom.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("Mailroom.slnx not found above " + AppContext.BaseDirectory);
    }
}
