namespace Mailroom.Core.Identities;

/// <summary>One record the operator publishes for the platform domain. <see cref="Value"/> is the record's data as
/// one string (a TXT value unsplit); a value in angle brackets is a placeholder the operator fills in.</summary>
public sealed record PlatformDnsRecord(string Name, string Type, string Value, string Purpose);

public sealed record PlatformDnsRecordStatus(string Name, string Type, string Value, string Purpose, bool Live, string Detail);

public sealed record PlatformDnsStatus(string PlatformDomain, bool AllLive, IReadOnlyList<PlatformDnsRecordStatus> Records);

/// <summary>
/// The DNS records that make the platform domain an authenticated sender (what <c>mailroom dns</c> prints), and
/// which of them DNS serves now (<c>GET /health/dns</c>). Needs a platform domain.
/// </summary>
public sealed class PlatformDnsRecords(DkimKeyStore keys, DnsRecordChecks checks, PlatformSettings platform)
{
    public const string ServerAddressPlaceholder = "<public IPv4 address of this Mailroom>";

    public async Task<IReadOnlyList<PlatformDnsRecord>> ListAsync(CancellationToken ct = default)
    {
        var domain = platform.PlatformDomain ?? throw new InvalidOperationException("No platform domain is configured (--platform-domain).");
        var key = await keys.PlatformKeyAsync(ct);
        var returnPath = platform.ReturnPathHost;
        var include = platform.SpfIncludeHost;
        return
        [
            new(DkimKeyStore.Host(key, domain), "TXT", "v=DKIM1; " + DkimTxtRecord.Format(key.PublicKey),
                "DKIM public key of the platform (RFC 6376 §3.6.2). Signs mail From the platform domain, and mail whose From domain has no verified key of its own."),
            new(domain, "TXT", $"v=spf1 a mx include:{include} ~all",
                "SPF of the platform domain (RFC 7208). Keep a single v=spf1 record: merge these terms into an existing one."),
            new(include, "TXT", $"v=spf1 a:{returnPath} ~all",
                $"The hosts that send for Mailroom; customers add include:{include} to their own SPF record (RFC 7208 §5.2). Add ip4:/ip6: terms if mail leaves from other addresses."),
            new(returnPath, "A", ServerAddressPlaceholder,
                "The Return-Path (envelope sender) host of all mail, and the CNAME target of customers' Return-Path domains. Bounces are sent to it, so it must reach Mailroom's inbound SMTP: an A record is its implicit MX (RFC 5321 §5.1), or publish an MX instead."),
            new(returnPath, "TXT", $"v=spf1 include:{include} ~all",
                "SPF of the Return-Path host: receivers check SPF on the MAIL FROM domain (RFC 7208 §2.4), which is this host, also for customers whose Return-Path is a CNAME to it."),
            new("_dmarc." + domain, "TXT", $"v=DMARC1; p=none; rua=mailto:dmarc@{domain}",
                "DMARC policy suggestion (RFC 7489 §6.3): start with p=none and reports to a mailbox you read; tighten to quarantine or reject once reports are clean."),
            new(Dmarc.DmarcService.ReportingHost(platform), "A", ServerAddressPlaceholder,
                "Host of the hosted DMARC reporting addresses (reporting_uri of /records): it must reach Mailroom's inbound SMTP (an A record is its implicit MX, RFC 5321 §5.1)."),
            new("*._report._dmarc." + domain, "TXT", "v=DMARC1",
                "Lets every customer domain send its DMARC aggregate reports to this platform's reporting addresses: receivers check <customer domain>._report._dmarc." + domain + " before mailing reports to another domain (RFC 7489 §7.1)."),
        ];
    }

    public async Task<PlatformDnsStatus> CheckAsync(CancellationToken ct = default)
    {
        var records = await ListAsync(ct);
        var key = await keys.PlatformKeyAsync(ct);
        var statuses = new List<PlatformDnsRecordStatus>();
        foreach (var r in records)
        {
            var result = (r.Type, r.Name) switch
            {
                ("TXT", var n) when n.Contains("._domainkey.", StringComparison.Ordinal) => await checks.DkimAsync(n, key.PublicKey, ct),
                ("TXT", var n) when n.StartsWith("_dmarc.", StringComparison.Ordinal) => await checks.TxtStartingWithAsync(n, "v=DMARC1", ct),
                // A query for the literal "*" label is answered by the wildcard record itself (RFC 4592 §2.2.1).
                ("TXT", var n) when n.StartsWith("*._report._dmarc.", StringComparison.Ordinal) => await checks.TxtStartingWithAsync(n, "v=DMARC1", ct),
                ("TXT", var n) when n == platform.SpfIncludeHost => (await checks.SpfRecordAsync(n, ct)).Result,
                ("TXT", var n) => await checks.SpfIncludesAsync(n, platform.SpfIncludeHost, ct),
                ("A", var n) => await checks.ReceivesMailAsync(n, ct),
                _ => new CheckResult(CheckVerdict.Unknown, "Not checked."),
            };
            statuses.Add(new PlatformDnsRecordStatus(r.Name, r.Type, r.Value, r.Purpose, result.Passed, result.Detail));
        }
        return new PlatformDnsStatus(platform.PlatformDomain!, statuses.All(s => s.Live), statuses);
    }
}
