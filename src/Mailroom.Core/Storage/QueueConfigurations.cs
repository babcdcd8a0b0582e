using Mailroom.Core.Queue;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class OutboundMessageConfiguration : IEntityTypeConfiguration<OutboundMessage>
{
    public void Configure(EntityTypeBuilder<OutboundMessage> b)
    {
        b.ToTable("outbound_messages");
        b.Property(m => m.Id).ValueGeneratedNever();
        b.HasIndex(m => new { m.ServerId, m.Stream, m.ReceivedAt });
        b.HasIndex(m => m.ReceivedAt);
    }
}

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> b)
    {
        b.ToTable("deliveries");
        b.HasIndex(d => new { d.State, d.NextAttemptAt });
        b.HasIndex(d => d.MessageId);
        b.HasOne<OutboundMessage>().WithMany().HasForeignKey(d => d.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MessageEventConfiguration : IEntityTypeConfiguration<MessageEvent>
{
    public void Configure(EntityTypeBuilder<MessageEvent> b)
    {
        b.ToTable("message_events");
        b.HasIndex(e => new { e.MessageId, e.At });
        b.HasOne<OutboundMessage>().WithMany().HasForeignKey(e => e.MessageId).OnDelete(DeleteBehavior.Cascade);
    }
}
