using Mailroom.Core.Accounts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class WebUserConfiguration : IEntityTypeConfiguration<WebUser>
{
    public void Configure(EntityTypeBuilder<WebUser> b)
    {
        b.ToTable("web_users");
        b.Property(u => u.Email).HasMaxLength(255);
        b.Property(u => u.NormalizedEmail).HasMaxLength(255);
        b.Property(u => u.SecurityStamp).HasMaxLength(64);
        b.Property(u => u.SetPasswordTokenHash).HasMaxLength(64);
        b.Property(u => u.TotpSecret).HasMaxLength(1000);
        b.Property(u => u.RecoveryCodeHashes).HasMaxLength(1000);
        b.HasIndex(u => u.NormalizedEmail).IsUnique();
        b.HasIndex(u => u.SetPasswordTokenHash);
        b.HasIndex(u => u.AccountId);
        b.HasOne<Account>().WithMany().HasForeignKey(u => u.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(u => u.Servers).WithOne().HasForeignKey(s => s.WebUserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WebUserServerConfiguration : IEntityTypeConfiguration<WebUserServer>
{
    public void Configure(EntityTypeBuilder<WebUserServer> b)
    {
        b.ToTable("web_user_servers");
        b.HasKey(s => new { s.WebUserId, s.ServerId });
        b.HasIndex(s => s.ServerId);
        b.HasOne<Server>().WithMany().HasForeignKey(s => s.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ServerShareLinkConfiguration : IEntityTypeConfiguration<ServerShareLink>
{
    public void Configure(EntityTypeBuilder<ServerShareLink> b)
    {
        b.ToTable("server_share_links");
        b.Property(l => l.TokenHash).HasMaxLength(64);
        b.Property(l => l.Label).HasMaxLength(200);
        b.HasIndex(l => l.TokenHash).IsUnique();
        b.HasIndex(l => l.ServerId);
        b.HasOne<Account>().WithMany().HasForeignKey(l => l.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Server>().WithMany().HasForeignKey(l => l.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
