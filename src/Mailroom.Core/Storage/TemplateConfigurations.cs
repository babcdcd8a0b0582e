using Mailroom.Core.Accounts;
using Mailroom.Core.Templates;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

internal sealed class TemplateConfiguration : IEntityTypeConfiguration<Template>
{
    public void Configure(EntityTypeBuilder<Template> b)
    {
        b.ToTable("templates");
        b.Property(t => t.Name).HasMaxLength(255);
        b.Property(t => t.Alias).HasMaxLength(255);
        b.Property(t => t.NormalizedAlias).HasMaxLength(255);
        b.Property(t => t.LayoutAlias).HasMaxLength(255);
        b.HasIndex(t => new { t.ServerId, t.NormalizedAlias }).IsUnique();
        b.HasIndex(t => new { t.ServerId, t.LayoutAlias });
        b.HasOne<Server>().WithMany().HasForeignKey(t => t.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TemplateVersionConfiguration : IEntityTypeConfiguration<TemplateVersion>
{
    public void Configure(EntityTypeBuilder<TemplateVersion> b)
    {
        b.ToTable("template_versions");
        b.Property(v => v.Name).HasMaxLength(255);
        b.Property(v => v.Alias).HasMaxLength(255);
        b.Property(v => v.LayoutAlias).HasMaxLength(255);
        b.HasIndex(v => new { v.TemplateId, v.Version }).IsUnique();
        b.HasOne<Template>().WithMany().HasForeignKey(v => v.TemplateId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TemplateSendConfiguration : IEntityTypeConfiguration<TemplateSend>
{
    public void Configure(EntityTypeBuilder<TemplateSend> b)
    {
        b.ToTable("template_sends");
        b.HasKey(s => s.MessageId);
        // No foreign key: the row outlives neither the message's meaning nor a deleted template's history.
    }
}

internal sealed class TemplatePreviewConfiguration : IEntityTypeConfiguration<TemplatePreview>
{
    public void Configure(EntityTypeBuilder<TemplatePreview> b)
    {
        b.ToTable("template_previews");
        b.Property(p => p.KeyHash).HasMaxLength(64);
        b.HasIndex(p => p.KeyHash).IsUnique();
        b.HasIndex(p => p.ExpiresAt);
        b.HasIndex(p => new { p.WebUserId, p.Id });
        b.HasOne<WebUser>().WithMany().HasForeignKey(p => p.WebUserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Server>().WithMany().HasForeignKey(p => p.ServerId).OnDelete(DeleteBehavior.Cascade);
    }
}
