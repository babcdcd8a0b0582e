using Mailroom.Core.Dmarc;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class DmarcDomainConfiguration : IEntityTypeConfiguration<DmarcDomain>
{
    public void Configure(EntityTypeBuilder<DmarcDomain> b)
    {
        b.ToTable("dmarc_domains");
        b.Property(d => d.Domain).HasMaxLength(255);
        b.Property(d => d.Email).HasMaxLength(320);
        b.Property(d => d.PublicToken).HasMaxLength(64);
        b.Property(d => d.PrivateTokenHash).HasMaxLength(64);
        b.HasIndex(d => d.PublicToken).IsUnique();
        b.Property(d => d.RecoveryTokenHash).HasMaxLength(64);
        b.HasIndex(d => d.PrivateTokenHash).IsUnique();
        b.HasIndex(d => d.RecoveryTokenHash);
        b.HasIndex(d => d.Domain);
        b.HasOne<Accounts.Account>().WithMany().HasForeignKey(d => d.AccountId).OnDelete(DeleteBehavior.Cascade);
        // One monitoring record per sending domain (NULLs, the Postmark-style sign-ups, never collide).
        b.HasOne<Identities.SendingDomain>().WithMany().HasForeignKey(d => d.SendingDomainId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(d => d.SendingDomainId).IsUnique();
        b.HasIndex(d => d.AccountId);
    }
}

internal sealed class DmarcReportConfiguration : IEntityTypeConfiguration<DmarcReport>
{
    public void Configure(EntityTypeBuilder<DmarcReport> b)
    {
        b.ToTable("dmarc_reports");
        b.Property(r => r.DedupKey).HasMaxLength(64);
        b.Property(r => r.ExternalId).HasMaxLength(255);
        b.Property(r => r.OrganizationName).HasMaxLength(255);
        b.Property(r => r.Email).HasMaxLength(320);
        b.Property(r => r.ExtraContactInfo).HasMaxLength(1000);
        b.Property(r => r.SourceUri).HasMaxLength(1000);
        b.Property(r => r.PolicyDomain).HasMaxLength(255);
        b.Property(r => r.DkimAlignmentMode).HasMaxLength(16);
        b.Property(r => r.SpfAlignmentMode).HasMaxLength(16);
        b.Property(r => r.DomainPolicy).HasMaxLength(32);
        b.Property(r => r.SubdomainPolicy).HasMaxLength(32);
        b.HasIndex(r => new { r.DomainId, r.DedupKey }).IsUnique();
        b.HasIndex(r => new { r.DomainId, r.DateRangeBegin });
        b.HasOne<DmarcDomain>().WithMany().HasForeignKey(r => r.DomainId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DmarcReportRowConfiguration : IEntityTypeConfiguration<DmarcReportRow>
{
    public void Configure(EntityTypeBuilder<DmarcReportRow> b)
    {
        b.ToTable("dmarc_report_rows");
        b.Property(r => r.SourceIp).HasMaxLength(64);
        b.Property(r => r.Disposition).HasMaxLength(32);
        b.Property(r => r.PolicyDkim).HasMaxLength(32);
        b.Property(r => r.PolicySpf).HasMaxLength(32);
        b.Property(r => r.ReasonType).HasMaxLength(64);
        b.Property(r => r.ReasonComment).HasMaxLength(1000);
        b.Property(r => r.HeaderFrom).HasMaxLength(255);
        b.Property(r => r.EnvelopeFrom).HasMaxLength(255);
        b.HasIndex(r => new { r.ReportId, r.RowNum });
        b.HasOne<DmarcReport>().WithMany().HasForeignKey(r => r.ReportId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DmarcFailureReportConfiguration : IEntityTypeConfiguration<DmarcFailureReport>
{
    public void Configure(EntityTypeBuilder<DmarcFailureReport> b)
    {
        b.ToTable("dmarc_failure_reports");
        b.Property(r => r.ReporterDomain).HasMaxLength(255);
        b.Property(r => r.FeedbackType).HasMaxLength(64);
        b.Property(r => r.AuthFailure).HasMaxLength(64);
        b.Property(r => r.ReportedDomain).HasMaxLength(255);
        b.Property(r => r.SourceIp).HasMaxLength(64);
        b.Property(r => r.DkimDomains).HasMaxLength(1000);
        b.Property(r => r.DkimSelector).HasMaxLength(255);
        b.Property(r => r.SpfDns).HasMaxLength(1000);
        b.Property(r => r.IdentityAlignment).HasMaxLength(64);
        b.Property(r => r.DeliveryResult).HasMaxLength(64);
        b.Property(r => r.EnvelopeFromDomain).HasMaxLength(255);
        b.Property(r => r.HeaderFromDomain).HasMaxLength(255);
        b.HasIndex(r => new { r.DomainId, r.CreatedAt });
        b.HasOne<DmarcDomain>().WithMany().HasForeignKey(r => r.DomainId).OnDelete(DeleteBehavior.Cascade);
    }
}
