using Mailroom.Cli;
using Mailroom.Core.Identities;

namespace Mailroom.Workers;

/// <summary>
/// At start, when a platform domain is configured: makes the platform's DKIM key if this install has none yet
/// (before the API takes requests, as hosted services start before Kestrel), and logs where it must be published.
/// </summary>
public sealed class PlatformKeySetup(IServiceProvider services, PlatformSettings platform, ILogger<PlatformKeySetup> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (platform.PlatformDomain is not { } domain)
        {
            log.LogInformation("No platform domain (--platform-domain): mail may come only From confirmed sender signatures and verified " +
                "domains, and the records shown to customers name {MailDomain} (pm-bounces.{MailDomain}, spf.{MailDomain})",
                platform.MailDomain, platform.MailDomain, platform.MailDomain);
            return;
        }
        await using var scope = services.CreateAsyncScope();
        // Under the setup lock: nodes started together on a new database make exactly one Active platform key (the
        // first makes it, the others find it).
        StoredDkimKey key;
        await using (await Mailroom.Core.Storage.DatabaseSetup.SetupLockAsync(scope.ServiceProvider.GetRequiredService<Mailroom.Core.Storage.DatabaseSettings>(), ct))
            key = await scope.ServiceProvider.GetRequiredService<DkimKeyStore>().PlatformKeyAsync(ct);
        log.LogInformation("Platform domain {Domain}: DKIM selector {Selector} (publish {Host}; `mailroom dns` prints every record)",
            domain, key.Selector, DkimKeyStore.Host(key, domain));
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Every <c>DnsRecheckHours</c> (default daily): checks the DNS of verified domains and Return-Paths again, and
/// marks unverified, with the time and reason, those whose record has gone (see DomainService.RecheckAsync).
/// The first check waits one interval: a restart does not trigger a burst of lookups.
/// </summary>
public sealed class IdentityRecheckWorker(IServiceProvider services, MailroomSettings settings, TimeProvider clock, ILogger<IdentityRecheckWorker> log)
    : PeriodicWorker(services, clock, log, settings.DnsRecheckInterval, runAtStart: false)
{
    protected override string FailureMessage => "DNS re-check failed; will retry at the next interval";

    protected override async Task RunAsync(IServiceProvider scoped, CancellationToken ct)
    {
        var domains = await scoped.GetRequiredService<DomainService>().RecheckAsync(ct);
        var signatures = await scoped.GetRequiredService<SenderSignatureService>().RecheckAsync(ct);
        Log.LogInformation("DNS re-check: {Domains} domains, {Signatures} sender signature Return-Paths", domains, signatures);
    }
}
