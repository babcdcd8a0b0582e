using Mailroom.Core.Accounts;
using Mailroom.Core.Events;
using Mailroom.Core.Identities;
using Mailroom.Core.Queue;
using Mailroom.Core.Webhooks;
using Mailroom.Core.Templates;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Storage;

/// <summary>
/// The one model of Mailroom. Two providers derive from it (<see cref="SqliteMailroomDb"/>,
/// <see cref="PostgresMailroomDb"/>), each with its own migrations folder; entity configuration lives in one
/// class per entity beside this file.
/// </summary>
public abstract class MailroomDb(DbContextOptions options) : DbContext(options),
    Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<Server> Servers => Set<Server>();
    public DbSet<ServerToken> ServerTokens => Set<ServerToken>();
    public DbSet<SmtpToken> SmtpTokens => Set<SmtpToken>();
    public DbSet<MessageStream> MessageStreams => Set<MessageStream>();
    public DbSet<OutboundMessage> OutboundMessages => Set<OutboundMessage>();
    public DbSet<RecipientDelivery> Deliveries => Set<RecipientDelivery>();
    public DbSet<MessageEvent> MessageEvents => Set<MessageEvent>();
    public DbSet<Suppression> Suppressions => Set<Suppression>();
    public DbSet<Bounce> Bounces => Set<Bounce>();
    public DbSet<InboundReport> InboundReports => Set<InboundReport>();
    public DbSet<SendingDomain> Domains => Set<SendingDomain>();
    public DbSet<StoredDkimKey> DkimKeys => Set<StoredDkimKey>();
    public DbSet<SenderSignature> SenderSignatures => Set<SenderSignature>();
    public DbSet<SenderConfirmation> SenderConfirmations => Set<SenderConfirmation>();
    public DbSet<PlatformSecret> PlatformSecrets => Set<PlatformSecret>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();
    public DbSet<Dmarc.DmarcDomain> DmarcDomains => Set<Dmarc.DmarcDomain>();
    public DbSet<Dmarc.DmarcReport> DmarcReports => Set<Dmarc.DmarcReport>();
    public DbSet<Dmarc.DmarcReportRow> DmarcReportRows => Set<Dmarc.DmarcReportRow>();
    public DbSet<Dmarc.DmarcFailureReport> DmarcFailureReports => Set<Dmarc.DmarcFailureReport>();
    public DbSet<NodeRecord> Nodes => Set<NodeRecord>();
    public DbSet<WebUser> WebUsers => Set<WebUser>();
    public DbSet<WebUserServer> WebUserServers => Set<WebUserServer>();
    public DbSet<ServerShareLink> ServerShareLinks => Set<ServerShareLink>();
    public DbSet<TemplatePreview> TemplatePreviews => Set<TemplatePreview>();
    /// <summary>The Data Protection key ring on PostgreSQL (one for every node); unused on SQLite (keys stay in the data folder).</summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys =>
        Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();
    public DbSet<Template> Templates => Set<Template>();
    public DbSet<TemplateVersion> TemplateVersions => Set<TemplateVersion>();
    public DbSet<TemplateSend> TemplateSends => Set<TemplateSend>();
    public DbSet<Tracking.TrackedCopy> TrackedCopies => Set<Tracking.TrackedCopy>();
    public DbSet<Tracking.TrackedLinkRecord> TrackedLinks => Set<Tracking.TrackedLinkRecord>();
    public DbSet<Tracking.EngagementEvent> EngagementEvents => Set<Tracking.EngagementEvent>();
    public DbSet<Inbound.InboundMessage> InboundMessages => Set<Inbound.InboundMessage>();
    public DbSet<Inbound.InboundRule> InboundRules => Set<Inbound.InboundRule>();
    public DbSet<Stats.StatsCounter> StatsCounters => Set<Stats.StatsCounter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(MailroomDb).Assembly, t => t.Namespace == typeof(MailroomDb).Namespace);
    }
}

public sealed class SqliteMailroomDb(DbContextOptions<SqliteMailroomDb> options) : MailroomDb(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Replay (WebhookEventReplay) reads one server's events in Id order after a cursor. SQLite has one writer, whose
        // lock is held from its first write to its commit, so Id order is commit order.
        modelBuilder.Entity<Mailroom.Core.Webhooks.WebhookEvent>().HasIndex(e => new { e.ServerId, e.Id });
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite keeps DateTime as ISO text and hands it back with Kind Unspecified; every time in Mailroom is UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }
}

public sealed class PostgresMailroomDb(DbContextOptions<PostgresMailroomDb> options) : MailroomDb(options)
{
    /// <summary>The column of <c>webhook_events</c> that holds the id of the transaction that wrote the row.</summary>
    public const string EventTxId = "TxId";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        // Replay (WebhookEventReplay) reads one server's events in (TxId, Id) order: several transactions write events
        // at once here, and an Id is taken at the write, not at the commit. The column is filled by the database on
        // every insert (EF's and the outbox's plain SQL alike), and nothing else reads or writes it.
        modelBuilder.Entity<Mailroom.Core.Webhooks.WebhookEvent>(e =>
        {
            e.Property<ulong>(EventTxId).HasColumnType("xid8").HasDefaultValueSql("pg_current_xact_id()");
            e.HasIndex(nameof(Mailroom.Core.Webhooks.WebhookEvent.ServerId), EventTxId, nameof(Mailroom.Core.Webhooks.WebhookEvent.Id));
        });
    }
}

internal sealed class UtcDateTimeConverter() : Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTime, DateTime>(
    v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
    v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
