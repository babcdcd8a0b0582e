using Mailroom.Core.Events;

namespace Mailroom.Tests.Infrastructure;

/// <summary>Bounces written straight into a host's store, for tests of what reads them.</summary>
public static class StoredBounces
{
    /// <summary>Records <paramref name="facts"/> as delivery and the MX path do: the bounce, its suppression and its stats
    /// counter in one transaction. Returns the bounce's ID.</summary>
    public static Task<long> RecordBounceAsync(this MailroomHost host, BounceFacts facts) =>
        host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            await using var tx = await db.Database.BeginTransactionAsync();
            var b = await sp.GetRequiredService<BounceRecorder>().AddAsync(db, facts, CancellationToken.None);
            await db.SaveChangesAsync();
            await tx.CommitAsync();
            return b.Id;
        });
}
