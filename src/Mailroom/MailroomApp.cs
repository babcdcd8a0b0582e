using Mailroom.Api;
using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Ingress;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Mailroom.Mail.Composition;
using Mailroom.Smtp;
using Mailroom.Operations;
using Mailroom.Web;
using Mailroom.Workers;
using Microsoft.AspNetCore.DataProtection;

namespace Mailroom;

/// <summary>Builds the one Mailroom process: services, API routes and background workers.</summary>
public static class MailroomApp
{
    /// <summary>Services every command needs (serve, accounts, ...): storage, secrets, Core services.</summary>
    public static IServiceCollection AddMailroomCore(this IServiceCollection services, MailroomSettings settings)
    {
        var data = Path.GetFullPath(settings.DataDirectory);
        Directory.CreateDirectory(data);
        services.AddSingleton(settings);
        services.AddSingleton(settings.Platform);
        services.AddSingleton(TimeProvider.System);
        // The key ring is encrypted with the master key (MasterKey.cs): keys written by older versions without it are
        // still read; every new key is encrypted.
        var masterKey = settings.LoadMasterKey();
        services.AddSingleton(masterKey);
        // SQLite (one process): the key ring in the data folder. PostgreSQL (possibly several nodes): in the database,
        // one ring for every node (data_protection_keys), so a secret one node encrypted is read by all; the operator
        // gives every node the same master key. The first key is made at start under the setup lock (StartupMigrator).
        var dataProtection = services.AddDataProtection().SetApplicationName("Mailroom");
        if (settings.DatabaseSettings.IsPostgres)
            dataProtection.PersistKeysToDbContext<PostgresMailroomDb>();
        else
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data, "keys")));
        services.Configure<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(o => o.XmlEncryptor = new MasterKeyXmlEncryptor(masterKey));
        services.AddSingleton<Secrets>();
        services.AddMailroomDatabase(settings.DatabaseSettings);
        services.AddScoped<AccountService>();
        services.AddScoped<ServerService>();
        services.AddScoped<MessageStreamService>();
        services.AddSingleton<Mailroom.Core.Queue.OutboundQueue>();
        services.AddSingleton<PreparationSignal>();
        services.AddSingleton<DeliverySignal>();
        var messageIds = new MessageComposerOptions { MessageIdDomain = MessageIdDomain(settings) };
        services.AddSingleton(messageIds);
        services.AddSingleton(new MessageComposer(messageIds));
        services.AddSingleton<SigningResolver>();
        services.AddScoped<RecipientSuppressions>();
        services.AddScoped<OutboundAdmission>();
        services.AddScoped<EmailIngress>();
        services.AddScoped<Mailroom.Core.Templates.TemplateService>();
        services.AddScoped<Mailroom.Core.Templates.TemplateRendering>();
        services.AddScoped<SmtpIngress>();
        services.AddScoped<SmtpTokenService>();
        services.AddSingleton<SmtpSubmissionLimits>();
        services.AddKeyedSingleton(SmtpListenerLimits.SubmissionKey, SmtpListenerLimits.Submission);
        services.AddKeyedSingleton(SmtpListenerLimits.MxKey, SmtpListenerLimits.Mx);
        services.AddSingleton<SmtpAuthThrottle>();
        services.AddScoped<MessageLog>();
        services.AddScoped<MessageRetention>();
        services.AddSingleton(settings.Tracking);
        services.AddSingleton<Mailroom.Core.Tracking.TrackingKeyring>();
        services.AddSingleton<Mailroom.Core.Tracking.GeoLocator>();
        services.AddSingleton<Mailroom.Core.Tracking.EngagementRecorder>();
        services.AddScoped<Mailroom.Core.Tracking.EngagementLog>();
        services.AddSingleton<MessagePreparer>();
        var node = new NodeIdentity();
        services.AddSingleton(node);
        services.AddSingleton<NodeRegistry>();
        services.AddSingleton(new DeliveryOptions
        {
            Port = settings.DeliveryPort,
            HeloName = settings.HeloName ?? MessageIdDomain(settings),
            NodeId = node.Id,
            Relay = settings.Relay is { } relay
                ? new RelayHost(HostPort.Parse(relay, 587).Host, HostPort.Parse(relay, 587).Port, settings.RelayUsername, settings.RelayPassword)
                : null,
        });
        services.AddSingleton<MxResolver>();
        services.AddSingleton<SmtpDeliverer>();
        services.AddSingleton<DeliveryOutcomeRecorder>();
        services.AddSingleton<DeliveryRunner>();
        services.AddSingleton(new DnsLookup(settings.DnsServer, settings.DnsTimeout));
        services.AddSingleton<DnsRecordChecks>();
        services.AddScoped<DkimKeyStore>();
        services.AddScoped<DomainService>();
        services.AddScoped<SenderSignatureService>();
        services.AddScoped<SenderAuthorization>();
        services.AddScoped<PlatformDnsRecords>();
        services.AddSingleton<Mailroom.Core.Events.BounceRecorder>();
        services.AddSingleton<Mailroom.Core.Events.VerpKeyring>();
        services.AddSingleton<Mailroom.Core.Events.UnsubscribeKeyring>();
        services.AddScoped<Mailroom.Core.Events.UnsubscribeService>();
        services.AddSingleton(settings.Breaker);
        services.AddSingleton<Mailroom.Core.Events.StreamBreaker>();
        services.AddScoped<Mailroom.Core.Events.BounceService>();
        services.AddScoped<Mailroom.Core.Stats.StatsService>();
        services.AddScoped<Mailroom.Core.Events.SuppressionService>();
        services.AddScoped<Mailroom.Core.Events.InboundReportProcessor>();
        services.AddScoped<Mailroom.Core.Events.ReturnPathHosts>();
        services.AddSingleton(new Mailroom.Core.Webhooks.WebhookOptions
        {
            AllowPrivateDestinations = settings.AllowPrivateWebhooks,
            NodeId = node.Id,
        });
        services.AddSingleton<Mailroom.Core.Webhooks.WebhookOutbox>();
        services.AddSingleton<Mailroom.Core.Webhooks.WebhookSender>();
        services.AddSingleton<Mailroom.Core.Webhooks.WebhookDispatcher>();
        services.AddScoped<Mailroom.Core.Webhooks.WebhookService>();
        services.AddScoped<Mailroom.Core.Webhooks.WebhookEventReplay>();
        services.AddScoped<Mailroom.Core.Inbound.InboundRecipients>();
        services.AddScoped<Mailroom.Core.Inbound.InboundProcessor>();
        services.AddScoped<Mailroom.Core.Inbound.InboundAuthentication>();
        services.AddSingleton(new Mailroom.Core.Inbound.SpamdOptions(settings.Spamd is { } spamd ? System.Net.IPEndPoint.Parse(spamd) : null));
        services.AddSingleton<Mailroom.Core.Inbound.SpamdCheck>();
        services.AddScoped<Mailroom.Core.Inbound.InboundRuleService>();
        services.AddScoped<Mailroom.Core.Inbound.InboundLog>();
        services.AddSingleton<Mailroom.Core.Inbound.InboundSignal>();
        services.AddScoped<Mailroom.Core.Dmarc.DmarcService>();
        services.AddSingleton<Mailroom.Core.Dmarc.DmarcPtrNames>();
        services.AddScoped<Mailroom.Core.Dmarc.DmarcIngestion>();
        services.AddScoped<Mailroom.Core.Dmarc.DmarcSourcesReport>();
        services.AddScoped<Mailroom.Core.Dmarc.DmarcDigest>();
        return services;
    }

    private static string MessageIdDomain(MailroomSettings settings)
    {
        var host = new Uri(settings.Platform.PublicUrl).Host;
        return Mailroom.Mail.Addresses.EmailAddress.IsValidDomain(host) ? host : "mailroom.localhost";
    }

    public static WebApplication Build(MailroomSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
        // Every charset MimeKit knows, for received mail (before anything parses a message).
        Mailroom.Mail.Inbound.Charsets.Register();
        // No appsettings*.json reloading: Mailroom's settings are MailroomSettings, and the reload watches the working
        // folder with inotify; with the data folder beneath it, every WAL write and fsync woke the watcher (3 % of an
        // SMTP submission's CPU in a profile).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls(settings.Http);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 60L * 1024 * 1024; // batch sends reach 50 MB; each endpoint checks its own limit
            k.AddServerHeader = false;
        });
        if (settings.LogFormat == "json")
            builder.Logging.AddJsonConsole(o => { o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
        else
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The migrator is the first hosted service: hosted services start in the order they were added, and Data
        // Protection's own (added by AddMailroomCore) reads the key ring at start, which on PostgreSQL is a table of the
        // store: before the migrator, a first start on a new database logged that read failing.
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddHostedService<StartupMigrator>();
        builder.Services.AddMailroomCore(settings);
        // On SIGTERM the host stops accepting, lets requests, commits and SMTP sessions under way finish, and releases
        // delivery claims; whatever is still running after this long is cancelled.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.AddMailroomApiReference();
        if (settings.HasRole("api"))
            builder.Services.AddMailroomWeb();
        builder.AddMailroomTelemetry(settings);
        builder.Services.AddSingleton<StoreHealth>();
        builder.Services.AddHostedService<PlatformKeySetup>();
        builder.Services.AddHostedService<NodeHeartbeatWorker>();
        if (settings.DatabaseSettings.IsPostgres)
        {
            builder.Services.AddSingleton<SettingsChangeListener>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SettingsChangeListener>());
        }
        builder.Services.AddHostedService<StreamPurgeWorker>();
        builder.Services.AddHostedService<DmarcDigestWorker>();
        if (settings.HasRole("smtp"))
        {
            builder.Services.AddSingleton(SmtpSubmissionOptions.From(settings, settings.HeloName ?? MessageIdDomain(settings)));
            builder.Services.AddSingleton<SmtpSubmissionService>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<SmtpSubmissionService>());
        }
        if (settings.HasRole("delivery"))
        {
            builder.Services.AddHostedService<PreparationWorker>();
            builder.Services.AddHostedService<DeliveryWorker>();
            builder.Services.AddHostedService<WebhookWorker>();
        }
        builder.Services.AddHostedService<IdentityRecheckWorker>();
        if (settings.HasRole("mx") && settings.Mx is not null)
        {
            builder.Services.AddHostedService<Mailroom.Smtp.MxListener>();
            builder.Services.AddHostedService<InboundWorker>();
        }
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapMailroomMetrics(settings);
        app.UsePostmarkErrors();
        app.MapHealthApi();
        app.MapMailroomApiReference();
        // Role api: the HTTP API. Without it the port serves /health only (a delivery or mx node's health check).
        if (settings.HasRole("api"))
        {
            app.MapServersApi();
            app.MapMessageStreamsApi();
            app.MapSmtpTokensApi();
            app.MapEmailApi();
            app.MapTemplatesApi();
            app.MapMessagesApi();
            app.MapTrackingApi();
            app.MapInboundApi();
            app.MapSenderSignaturesApi();
            app.MapDomainsApi();
            app.MapPlatformDnsApi();
            app.MapBouncesApi();
            app.MapSuppressionsApi();
            app.MapWebhooksApi();
            app.MapDmarcApi();
            app.UseMailroomWeb();
            app.MapStatsApi();
            app.MapUnsubscribeApi();
        }
        return app;
    }
}
