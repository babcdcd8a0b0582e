using Mailroom.Core.Stats;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class StatsCounterConfiguration : IEntityTypeConfiguration<StatsCounter>
{
    public void Configure(EntityTypeBuilder<StatsCounter> b)
    {
        b.ToTable("stats_counters");
        // The upsert's conflict target. Server, roll-up flag and day lead: a query without a tag reads one server's
        // roll-up rows of a range of days.
        b.HasKey(c => new { c.ServerId, c.AllTags, c.Day, c.Metric, c.Stream, c.Tag, c.Key, c.Provider });
        b.Property(c => c.Stream).HasMaxLength(30);
        b.Property(c => c.Tag).HasMaxLength(1000);
        b.Property(c => c.Key).HasMaxLength(StatsCounters.MaxKeyLength);
        // A query by tag reads only that tag's rows.
        b.HasIndex(c => new { c.ServerId, c.Tag, c.Day });
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(c => c.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
