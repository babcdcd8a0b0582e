using Mailroom.Core.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class SmtpTokenConfiguration : IEntityTypeConfiguration<SmtpToken>
{
    public void Configure(EntityTypeBuilder<SmtpToken> b)
    {
        b.ToTable("smtp_tokens");
        b.Property(t => t.StreamId).HasMaxLength(30);
        b.Property(t => t.AccessKey).HasMaxLength(64);
        b.Property(t => t.SecretHash).HasMaxLength(64);
        b.HasIndex(t => t.AccessKey).IsUnique();
        b.HasIndex(t => new { t.ServerId, t.StreamId });
        b.HasOne<Server>().WithMany().HasForeignKey(t => t.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
