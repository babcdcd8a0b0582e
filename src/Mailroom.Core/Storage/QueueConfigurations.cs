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
        b.Property(m => m.TraceParent).HasMaxLength(64); // "00-<32 hex>-<16 hex>-<2 hex>", 55 characters
        b.HasIndex(m => new { m.ServerId, m.Stream, m.ReceivedAt });
        // The Messages API's and Activity page's tag filter (exact match), newest first: without it a tag search reads
        // every row of the server's stream (a million-message server: seconds on SQLite).
        b.HasIndex(m => new { m.ServerId, m.Stream, m.Tag, m.ReceivedAt });
        // The status filter's count (index only) and, when the status is rare among the newest messages (status=sent
        // on a server whose mail is still queued), its page: without it both read every row of the stream.
        b.HasIndex(m => new { m.ServerId, m.Stream, m.Status, m.ReceivedAt });
        // The fromemail filter: the distinct senders of a stream read by a skip scan (one seek each), then the count of a
        // sender's messages from this index alone (MessageLog.SendersMatchingAsync).
        b.HasIndex(m => new { m.ServerId, m.Stream, m.From, m.ReceivedAt });
        b.HasIndex(m => m.ReceivedAt);
        // Preparation's question: the oldest accepted messages (a scan of every message without it).
        b.HasIndex(m => new { m.Stage, m.ReceivedAt });
    }
}

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<RecipientDelivery>
{
    public void Configure(EntityTypeBuilder<RecipientDelivery> b)
    {
        b.ToTable("deliveries");
        b.HasIndex(d => new { d.State, d.NextAttemptAt });
        // (MessageId, State), not MessageId alone: the retention job asks "has this message a pending delivery?" for
        // every candidate; with only (State, ...) matching both terms, SQLite walked every pending delivery per message
        // (quadratic with a backlog waiting for a slow destination).
        b.HasIndex(d => new { d.MessageId, d.State });
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

internal sealed class SuppressionConfiguration : IEntityTypeConfiguration<Mailroom.Core.Events.Suppression>
{
    public void Configure(EntityTypeBuilder<Mailroom.Core.Events.Suppression> b)
    {
        b.ToTable("suppressions");
        b.Property(s => s.Stream).HasMaxLength(30);
        b.Property(s => s.Email).HasMaxLength(320);
        b.HasIndex(s => new { s.ServerId, s.Stream, s.Email }).IsUnique();
        // /deliverystats' InactiveMails: the distinct addresses of one server, read from this index alone.
        b.HasIndex(s => new { s.ServerId, s.Email });
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(s => s.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class BounceConfiguration : IEntityTypeConfiguration<Mailroom.Core.Events.Bounce>
{
    public void Configure(EntityTypeBuilder<Mailroom.Core.Events.Bounce> b)
    {
        b.ToTable("bounces");
        b.Property(x => x.Stream).HasMaxLength(30);
        b.Property(x => x.Email).HasMaxLength(320);
        b.HasIndex(x => new { x.ServerId, x.Stream, x.BouncedAt });
        b.HasIndex(x => new { x.ServerId, x.Email });
        // /deliverystats: the count by type of one server's bounces, read from this index alone (without it, every
        // bounce row of the server: 133 ms on a million-message SQLite store).
        b.HasIndex(x => new { x.ServerId, x.Type });
        b.HasIndex(x => x.MessageId);
        b.HasOne<Mailroom.Core.Accounts.Server>().WithMany().HasForeignKey(x => x.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InboundReportConfiguration : IEntityTypeConfiguration<Mailroom.Core.Events.InboundReport>
{
    public void Configure(EntityTypeBuilder<Mailroom.Core.Events.InboundReport> b)
    {
        b.ToTable("inbound_reports");
        b.HasIndex(x => new { x.State, x.ReceivedAt });
    }
}
