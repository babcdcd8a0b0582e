using Mailroom.Core.Accounts;
using Mailroom.Core.Identities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class SendingDomainConfiguration : IEntityTypeConfiguration<SendingDomain>
{
    public void Configure(EntityTypeBuilder<SendingDomain> b)
    {
        b.ToTable("domains");
        b.Property(d => d.Name).HasMaxLength(255);
        b.Property(d => d.ReturnPathDomain).HasMaxLength(255);
        b.Property(d => d.ReturnPathProblem).HasMaxLength(1000);
        b.Property(d => d.DkimProblem).HasMaxLength(1000);
        b.HasIndex(d => new { d.AccountId, d.Name }).IsUnique();
        b.HasOne<Account>().WithMany().HasForeignKey(d => d.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(d => d.Keys).WithOne().HasForeignKey(k => k.DomainId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DkimKeyConfiguration : IEntityTypeConfiguration<StoredDkimKey>
{
    public void Configure(EntityTypeBuilder<StoredDkimKey> b)
    {
        b.ToTable("dkim_keys");
        b.Property(k => k.Selector).HasMaxLength(63);
        // One pending, one active and one revoked key per domain: a second concurrent rotation fails here (505).
        // Platform keys have no domain; NULLs never collide in a unique index on either provider.
        b.HasIndex(k => new { k.DomainId, k.State }).IsUnique();
    }
}

internal sealed class SenderSignatureConfiguration : IEntityTypeConfiguration<SenderSignature>
{
    public void Configure(EntityTypeBuilder<SenderSignature> b)
    {
        b.ToTable("sender_signatures");
        b.Property(s => s.EmailAddress).HasMaxLength(255);
        b.Property(s => s.NormalizedEmail).HasMaxLength(255);
        b.Property(s => s.Domain).HasMaxLength(255);
        b.Property(s => s.Name).HasMaxLength(255);
        b.Property(s => s.ReplyToEmail).HasMaxLength(255);
        b.Property(s => s.ReturnPathDomain).HasMaxLength(255);
        b.Property(s => s.ReturnPathProblem).HasMaxLength(1000);
        b.Property(s => s.ConfirmationPersonalNote).HasMaxLength(400);
        b.HasIndex(s => new { s.AccountId, s.NormalizedEmail }).IsUnique();
        b.HasOne<Account>().WithMany().HasForeignKey(s => s.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasMany(s => s.Confirmations).WithOne().HasForeignKey(c => c.SignatureId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class SenderConfirmationConfiguration : IEntityTypeConfiguration<SenderConfirmation>
{
    public void Configure(EntityTypeBuilder<SenderConfirmation> b)
    {
        b.ToTable("sender_confirmations");
        b.Property(c => c.TokenHash).HasMaxLength(64);
        b.HasIndex(c => c.TokenHash).IsUnique();
    }
}
