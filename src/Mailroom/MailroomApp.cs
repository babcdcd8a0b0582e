using Mailroom.Api;
using Mailroom.Cli;
using Mailroom.Core;
using Mailroom.Core.Accounts;
using Mailroom.Core.Delivery;
using Mailroom.Core.Ingress;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Mailroom.Mail.Composition;
using Mailroom.Smtp;
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
        services.AddDataProtection()
            .SetApplicationName("Mailroom")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(data, "keys")));
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
        services.AddSingleton<SmtpAuthThrottle>();
        services.AddScoped<MessageLog>();
        services.AddScoped<MessageRetention>();
        services.AddSingleton<MessagePreparer>();
        services.AddSingleton(new DeliveryOptions
        {
            Port = settings.DeliveryPort,
            HeloName = settings.HeloName ?? MessageIdDomain(settings),
            NodeId = NodeId(data),
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
        services.AddSingleton(settings.Breaker);
        services.AddSingleton<Mailroom.Core.Events.StreamBreaker>();
        services.AddScoped<Mailroom.Core.Events.BounceService>();
        services.AddScoped<Mailroom.Core.Events.SuppressionService>();
        services.AddScoped<Mailroom.Core.Events.InboundReportProcessor>();
        services.AddScoped<Mailroom.Core.Events.ReturnPathHosts>();
        return services;
    }

    /// <summary>A name for this node, made once and kept in the data folder.</summary>
    private static string NodeId(string data)
    {
        var file = Path.Combine(data, "node-id");
        if (File.Exists(file) && File.ReadAllText(file).Trim() is { Length: > 0 } existing)
            return existing;
        var id = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";
        File.WriteAllText(file, id);
        return id;
    }

    private static string MessageIdDomain(MailroomSettings settings)
    {
        var host = new Uri(settings.Platform.PublicUrl).Host;
        return Mailroom.Mail.Addresses.EmailAddress.IsValidDomain(host) ? host : "mailroom.localhost";
    }

    public static WebApplication Build(MailroomSettings settings, Action<WebApplicationBuilder>? configure = null)
    {
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
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddMailroomCore(settings);
        builder.Services.AddSingleton<Readiness>();
        builder.Services.AddHostedService<StartupMigrator>();
        builder.Services.AddHostedService<PlatformKeySetup>();
        builder.Services.AddHostedService<StreamPurgeWorker>();
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
        }
        builder.Services.AddHostedService<IdentityRecheckWorker>();
        if (settings.HasRole("mx") && settings.Mx is not null)
            builder.Services.AddHostedService<Mailroom.Smtp.MxListener>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UsePostmarkErrors();
        app.MapGet("/health", (Readiness ready) => ready.IsReady
            ? Results.Json(new { Status = "Ready" }, ApiConventions.Json)
            : Results.Json(new { Status = "Starting" }, ApiConventions.Json, statusCode: 503));
        // Role api: the HTTP API. Without it the port serves /health only (a delivery or mx node's health check).
        if (settings.HasRole("api"))
        {
            app.MapServersApi();
            app.MapMessageStreamsApi();
            app.MapSmtpTokensApi();
            app.MapEmailApi();
            app.MapTemplatesApi();
            app.MapMessagesApi();
            app.MapSenderSignaturesApi();
            app.MapDomainsApi();
            app.MapPlatformDnsApi();
            app.MapBouncesApi();
            app.MapSuppressionsApi();
        }
        return app;
    }
}
