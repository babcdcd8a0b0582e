using System.Formats.Tar;
using System.IO.Compression;
using Mailroom.Cli;
using Mailroom.Core.Storage;
using Microsoft.Data.Sqlite;

namespace Mailroom.Operations;

/// <summary>
/// <c>mailroom backup</c> and <c>mailroom restore</c>. A backup is a .tar.gz of the data folder as a restore needs it:
/// a consistent copy of the SQLite store made with SQLite's online backup API while Mailroom runs (the store holds the
/// VERP keyring and other platform secrets, encrypted), the Data Protection key ring (<c>keys/</c>) that decrypts
/// them, the master key when it lives in the data folder, and the other files there (the generated STARTTLS
/// certificate). The node ID is left out: a restored copy is a new node. On PostgreSQL the archive holds the files
/// only; the database is dumped with <c>pg_dump</c> (see docs/operations.md).
/// </summary>
public static class StoreBackup
{
    public const string ManifestName = "MAILROOM-BACKUP";
    private static readonly string[] Skipped = ["mailroom.db", "mailroom.db-wal", "mailroom.db-shm", "mailroom.db-journal", "node-id"];

    /// <summary>Writes the archive; returns what it holds, for the operator.</summary>
    public static async Task<IReadOnlyList<string>> BackupAsync(MailroomSettings settings, string archive, CancellationToken ct)
    {
        var data = Path.GetFullPath(settings.DataDirectory);
        if (!Directory.Exists(data))
            throw new InvalidOperationException($"The data folder {data} does not exist.");
        var db = settings.DatabaseSettings;
        var entries = new List<string>();
        var temp = Path.Combine(Path.GetTempPath(), "mailroom-backup-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(temp);
        try
        {
            string? sqliteCopy = null;
            if (!db.IsPostgres)
            {
                if (!File.Exists(db.SqlitePath))
                    throw new InvalidOperationException($"No SQLite store at {db.SqlitePath}.");
                sqliteCopy = Path.Combine(temp, "mailroom.db");
                // The online backup API copies a consistent snapshot page by page while writers go on (sqlite.org/backup.html).
                await using (var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db.SqlitePath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString()))
                await using (var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = sqliteCopy, Pooling = false }.ToString()))
                {
                    await source.OpenAsync(ct);
                    await target.OpenAsync(ct);
                    // The copy keeps WAL mode (Mailroom's stores are WAL; EF checks a store through a read-only connection,
                    // which cannot switch the mode); closing the last connection checkpoints it into the one file.
                    source.BackupDatabase(target);
                }
            }
            var full = Path.GetFullPath(archive);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var partial = full + ".partial";
            await using (var file = File.Create(partial))
            await using (var gzip = new GZipStream(file, CompressionLevel.Optimal))
            await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false))
            {
                var manifest = Path.Combine(temp, ManifestName);
                await File.WriteAllTextAsync(manifest,
                    $"Mailroom backup\ncreated {DateTimeOffset.UtcNow:o}\nstore {(db.IsPostgres ? "postgresql (dump it with pg_dump)" : "sqlite")}\n", ct);
                await tar.WriteEntryAsync(manifest, ManifestName, ct);
                entries.Add(ManifestName);
                if (sqliteCopy is not null)
                {
                    await tar.WriteEntryAsync(sqliteCopy, "mailroom.db", ct);
                    entries.Add("mailroom.db");
                }
                foreach (var path in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var relative = Path.GetRelativePath(data, path).Replace(Path.DirectorySeparatorChar, '/');
                    if (Skipped.Contains(relative) || Path.GetFullPath(path) == full || Path.GetFullPath(path) == partial)
                        continue;
                    await tar.WriteEntryAsync(path, relative, ct);
                    entries.Add(relative);
                }
                // A master key kept outside the data folder is not copied: keeping it apart from the backups is the point.
            }
            File.Move(partial, full, overwrite: true);
            return entries;
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Unpacks an archive into an empty (or new) data folder.</summary>
    public static async Task<IReadOnlyList<string>> RestoreAsync(string archive, string dataDirectory, CancellationToken ct)
    {
        var data = Path.GetFullPath(dataDirectory);
        if (Directory.Exists(data) && Directory.EnumerateFileSystemEntries(data).Any())
            throw new InvalidOperationException($"The data folder {data} is not empty: restore into a new or empty folder.");
        if (!File.Exists(archive))
            throw new FileNotFoundException($"No backup at {archive}.");
        var temp = data + ".restoring-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(temp);
        var entries = new List<string>();
        try
        {
            await using (var file = File.OpenRead(archive))
            await using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            await using (var tar = new TarReader(gzip))
            {
                while (await tar.GetNextEntryAsync(cancellationToken: ct) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                        continue;
                    var target = Path.GetFullPath(Path.Combine(temp, entry.Name));
                    if (!target.StartsWith(temp + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new InvalidOperationException($"The archive entry '{entry.Name}' points outside the data folder.");
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await entry.ExtractToFileAsync(target, overwrite: false, ct);
                    entries.Add(entry.Name);
                }
            }
            if (!entries.Contains(ManifestName))
                throw new InvalidOperationException($"{archive} is not a Mailroom backup (no {ManifestName} entry).");
            File.Delete(Path.Combine(temp, ManifestName));
            if (Directory.Exists(data))
                Directory.Delete(data);
            Directory.Move(temp, data);
            return entries.Where(e => e != ManifestName).ToList();
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { }
            throw;
        }
    }
}
