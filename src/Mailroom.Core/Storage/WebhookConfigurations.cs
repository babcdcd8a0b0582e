using Mailroom.Core.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class WebhookConfiguration : IEntityTypeConfiguration<Webhook>
{
    public void Configure(EntityTypeBuilder<Webhook> b)
    {
        b.ToTable("webhooks");
        b.Property(w => w.Stream).HasMaxLength(30);
        b.Property(w => w.Url).HasMaxLength(2000);
        b.HasIndex(w => new { w.ServerId, w.Stream });
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(w => w.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookEventConfiguration : IEntityTypeConfiguration<WebhookEvent>
{
    public void Configure(EntityTypeBuilder<WebhookEvent> b)
    {
        b.ToTable("webhook_events");
        b.Property(e => e.Stream).HasMaxLength(30);
        b.Property(e => e.RecordType).HasMaxLength(30);
        // Replay's index is the provider's own (MailroomDb.cs): (ServerId, Id) on SQLite, (ServerId, TxId, Id) on PostgreSQL.
        b.HasOne(e => e.Bounce).WithMany().HasForeignKey(e => e.BounceId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(e => e.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> b)
    {
        b.ToTable("webhook_deliveries");
        b.Property(d => d.Url).HasMaxLength(2000);
        // Pending rows only (what claims read): a delivered row leaves the index instead of moving within it, and the
        // index stays the size of the backlog, not of the history.
        b.HasIndex(d => new { d.State, d.NextAttemptAt }).HasFilter("\"State\" = 0");
        b.HasIndex(d => d.WebhookId);
        b.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> b)
    {
        b.ToTable("webhook_attempts");
        b.HasIndex(a => new { a.WebhookId, a.Id });
        b.HasIndex(a => a.DeliveryId);
        b.HasOne<WebhookDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}
