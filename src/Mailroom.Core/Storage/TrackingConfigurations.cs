using Mailroom.Core.Queue;
using Mailroom.Core.Tracking;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class TrackedCopyConfiguration : IEntityTypeConfiguration<TrackedCopy>
{
    public void Configure(EntityTypeBuilder<TrackedCopy> b)
    {
        b.ToTable("tracked_copies");
        b.HasKey(c => new { c.MessageId, c.RecipientIndex });
        b.HasOne<OutboundMessage>().WithMany().HasForeignKey(c => c.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TrackedLinkConfiguration : IEntityTypeConfiguration<TrackedLinkRecord>
{
    public void Configure(EntityTypeBuilder<TrackedLinkRecord> b)
    {
        b.ToTable("tracked_links");
        b.HasKey(l => new { l.MessageId, l.LinkIndex });
        b.HasOne<OutboundMessage>().WithMany().HasForeignKey(l => l.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class EngagementEventConfiguration : IEntityTypeConfiguration<EngagementEvent>
{
    public void Configure(EntityTypeBuilder<EngagementEvent> b)
    {
        b.ToTable("engagement_events");
        // The opens and clicks lists: one server's events of one kind, newest first.
        b.HasIndex(e => new { e.ServerId, e.Kind, e.At });
        // One message's events, and "has this recipient opened before" (FirstOpen).
        b.HasIndex(e => new { e.MessageId, e.Kind, e.Recipient });
        b.HasOne<OutboundMessage>().WithMany().HasForeignKey(e => e.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
