using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Mailroom.Core.Storage;

/// <summary>
/// A unique index decides the races that a service's checks before saving cannot see (two requests creating the same
/// name at once, on one node or several). Only that violation becomes the service's "already exists" answer: any other
/// failure of the save (a foreign key, a busy or read-only store) stays an error instead of being reported as a duplicate.
/// </summary>
public static class UniqueIndex
{
    /// <summary>SQLite: SQLITE_CONSTRAINT_UNIQUE (2067) or SQLITE_CONSTRAINT_PRIMARYKEY (1555); PostgreSQL: 23505.</summary>
    public static bool IsViolation(DbUpdateException e) => e.InnerException switch
    {
        SqliteException s => s.SqliteExtendedErrorCode is 2067 or 1555,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>Saves; a unique-index violation throws what <paramref name="duplicate"/> makes.</summary>
    public static async Task SaveUniqueAsync(this DbContext db, Func<Exception> duplicate, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (IsViolation(e))
        {
            throw duplicate();
        }
    }
}
