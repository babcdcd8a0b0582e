using Mailroom.Core.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> b)
    {
        b.ToTable("accounts");
        b.Property(a => a.Name).HasMaxLength(255);
        b.Property(a => a.Email).HasMaxLength(255);
        b.Property(a => a.TokenHash).HasMaxLength(64);
        b.HasIndex(a => a.TokenHash).IsUnique();
    }
}

internal sealed class ServerConfiguration : IEntityTypeConfiguration<Server>
{
    public void Configure(EntityTypeBuilder<Server> b)
    {
        b.ToTable("servers");
        b.Property(s => s.Name).HasMaxLength(255);
        b.Property(s => s.NormalizedName).HasMaxLength(255);
        b.HasIndex(s => new { s.AccountId, s.NormalizedName }).IsUnique();
        b.HasIndex(s => s.InboundHash).IsUnique();
        b.HasIndex(s => s.InboundDomain).IsUnique();
        b.HasOne<Account>().WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(s => s.Tokens).WithOne().HasForeignKey(t => t.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ServerTokenConfiguration : IEntityTypeConfiguration<ServerToken>
{
    public void Configure(EntityTypeBuilder<ServerToken> b)
    {
        b.ToTable("server_tokens");
        b.Property(t => t.TokenHash).HasMaxLength(64);
        b.HasIndex(t => t.TokenHash).IsUnique();
    }
}

internal sealed class MessageStreamConfiguration : IEntityTypeConfiguration<MessageStream>
{
    public void Configure(EntityTypeBuilder<MessageStream> b)
    {
        b.ToTable("message_streams");
        b.Property(s => s.StreamId).HasMaxLength(30);
        b.Property(s => s.Name).HasMaxLength(100);
        b.Property(s => s.Description).HasMaxLength(1000);
        b.HasIndex(s => new { s.ServerId, s.StreamId }).IsUnique();
        b.HasIndex(s => s.ExpectedPurgeDate);
        b.HasOne<Server>().WithMany().HasForeignKey(s => s.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
