using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Operations;

/// <summary>
/// Migrations only go forward, and a binary only knows the ones it was built with. A store that has a migration this
/// binary does not know was upgraded by a newer Mailroom: running an older one on it would read and write a schema it
/// does not understand, so start is refused (downgrade by restoring the backup taken before the upgrade).
/// </summary>
public static class SchemaGuard
{
    public static async Task CheckAsync(MailroomDb db, CancellationToken ct)
    {
        await DatabaseSetup.CreateHistoryTableAsync(db, ct);
        var known = db.Database.GetMigrations().ToHashSet(StringComparer.Ordinal);
        var applied = await db.Database.GetAppliedMigrationsAsync(ct);
        var unknown = applied.Where(m => !known.Contains(m)).ToList();
        if (unknown.Count > 0)
            throw new InvalidOperationException(
                $"The store was upgraded by a newer Mailroom: it has migration(s) {string.Join(", ", unknown)} that this version " +
                $"({typeof(SchemaGuard).Assembly.GetName().Version}) does not know. Run the newer version, or restore the backup taken before the upgrade.");
    }
}
