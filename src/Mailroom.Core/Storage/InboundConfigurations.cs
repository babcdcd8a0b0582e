using Mailroom.Core.Inbound;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class InboundMessageConfiguration : IEntityTypeConfiguration<InboundMessage>
{
    public void Configure(EntityTypeBuilder<InboundMessage> b)
    {
        b.ToTable("inbound_messages");
        b.Property(m => m.MailFrom).HasMaxLength(320);
        b.Property(m => m.Recipient).HasMaxLength(320);
        b.Property(m => m.ClientIp).HasMaxLength(64);
        b.Property(m => m.Helo).HasMaxLength(255);
        b.Property(m => m.FromEmail).HasMaxLength(320);
        b.Property(m => m.MailboxHash).HasMaxLength(320);
        b.Property(m => m.Tag).HasMaxLength(1000);
        // The search reads one server's messages newest first; processing finds the ones not yet processed.
        b.HasIndex(m => new { m.ServerId, m.ReceivedAt });
        b.HasIndex(m => m.Status);
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(m => m.ServerId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Mailroom.Core.Webhooks.WebhookEvent>().WithMany().HasForeignKey(m => m.WebhookEventId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class InboundRuleConfiguration : IEntityTypeConfiguration<InboundRule>
{
    public void Configure(EntityTypeBuilder<InboundRule> b)
    {
        b.ToTable("inbound_rules");
        b.Property(r => r.Rule).HasMaxLength(320);
        b.HasIndex(r => new { r.ServerId, r.Rule }).IsUnique();
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(r => r.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
