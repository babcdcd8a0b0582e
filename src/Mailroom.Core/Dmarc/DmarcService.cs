using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Mailroom.Contracts;
using Mailroom.Core.Identities;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Dmarc;

/// <summary>
/// Postmark's DMARC API (dmarc.postmarkapp.com/api) over <see cref="DmarcDomain"/>s: one domain per private token,
/// <c>/records/my</c> being the domain the token is scoped to. Errors are <see cref="MailroomException"/>s: 401 for a
/// missing or wrong token, 422 for validation, 404 for a report that is not the token's.
/// </summary>
public sealed class DmarcService(MailroomDb db, DnsRecordChecks checks, DnsLookup dns, PlatformSettings platform, TimeProvider clock,
    Queue.OutboundQueue queue, DmarcPtrNames ptrNames, ILogger<DmarcService> log)
{
    public const int MaxReportsPerPage = 100;

    /// <summary>Distinct source IPs of one report given a <c>host_name</c> (the largest first); the rest answer null.</summary>
    public const int MaxHostNamesPerReport = 100;

    /// <summary>The host of the hosted reporting addresses. It must reach the MX listener, and RFC 7489 §7.1 needs the
    /// wildcard <c>*._report._dmarc.&lt;mail domain&gt;</c> TXT record for receivers to send reports to it.</summary>
    public static string ReportingHost(PlatformSettings platform) => "dmarc." + platform.MailDomain;

    public static string ReportingAddress(PlatformSettings platform, DmarcDomain d) => $"{d.PublicToken}@{ReportingHost(platform)}";

    public async Task<DmarcRecord> CreateAsync(DmarcCreateRecordRequest request, CancellationToken ct)
    {
        var domain = ValidDomain(request.Domain);
        var email = ValidEmail(request.Email);
        var token = Secrets.NewToken();
        var record = new DmarcDomain
        {
            Domain = domain,
            Email = email,
            PublicToken = NewPublicToken(),
            PrivateTokenHash = Secrets.Hash(token),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.DmarcDomains.Add(record);
        await db.SaveChangesAsync(ct);
        log.LogInformation("DMARC monitoring created for {Domain} ({Id})", domain, record.Id);
        return Describe(record) with { PrivateToken = token };
    }

    /// <summary>Error code of the account-side calls when the domain is not monitored (Mailroom's; Postmark has no such call).</summary>
    public const int NotMonitoredErrorCode = 530;

    /// <summary>Error code when monitoring is asked for a domain whose DKIM record is not verified yet.</summary>
    public const int NotVerifiedErrorCode = 531;

    /// <summary>
    /// Account-side monitoring (<c>POST /domains/{id}/dmarc</c>, the web app): one of the account's domains whose DKIM
    /// record is verified, so the account has shown it controls the domain's DNS, gets a record bound to the account
    /// without a separate sign-up. The digest goes to <paramref name="email"/>, else to the account's address. A second
    /// call answers the existing record (without a token). The answer carries a private token once, so Postmark's DMARC
    /// API (<c>/records/my…</c>) works for the record too.
    /// </summary>
    public async Task<DmarcAccountRecord> EnableForDomainAsync(int accountId, int domainId, string? email, CancellationToken ct)
    {
        var domain = await SendingDomainAsync(accountId, domainId, ct);
        if (await db.DmarcDomains.FirstOrDefaultAsync(d => d.SendingDomainId == domain.Id, ct) is { } existing)
            return DescribeForAccount(existing, null);
        if (!domain.DkimVerified)
            throw new MailroomException(NotVerifiedErrorCode,
                $"The domain '{domain.Name}' is not verified yet: publish and verify its DKIM record before monitoring DMARC.");
        var digest = string.IsNullOrWhiteSpace(email)
            ? await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Email).SingleAsync(ct)
            : ValidEmail(email);
        var token = Secrets.NewToken();
        var record = new DmarcDomain
        {
            Domain = domain.Name,
            Email = digest,
            PublicToken = NewPublicToken(),
            PrivateTokenHash = Secrets.Hash(token),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            AccountId = accountId,
            SendingDomainId = domain.Id,
        };
        db.DmarcDomains.Add(record);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (UniqueIndex.IsViolation(e))
        {
            // Two requests at once: the unique index on SendingDomainId kept one; answer it.
            db.ChangeTracker.Clear();
            return DescribeForAccount(await db.DmarcDomains.AsNoTracking().SingleAsync(d => d.SendingDomainId == domain.Id, ct), null);
        }
        log.LogInformation("DMARC monitoring turned on for {Domain} ({Id}) by account {Account}", domain.Name, record.Id, accountId);
        return DescribeForAccount(record, token);
    }

    /// <summary>The monitoring record of one of the account's domains; 510 for a domain that is not the account's,
    /// <see cref="NotMonitoredErrorCode"/> when monitoring is off.</summary>
    public async Task<DmarcAccountRecord> GetForDomainAsync(int accountId, int domainId, CancellationToken ct) =>
        DescribeForAccount(await MonitoredAsync(accountId, domainId, ct), null);

    /// <summary>Turns account-side monitoring off: the record and its reports are deleted, its reporting address stops
    /// accepting mail. Returns the domain name.</summary>
    public async Task<string> DisableForDomainAsync(int accountId, int domainId, CancellationToken ct)
    {
        var record = await MonitoredAsync(accountId, domainId, ct);
        await DeleteAsync(record, ct);
        return record.Domain;
    }

    /// <summary>A monitoring record of the account by its own id (the web app's URLs); null when it is not the account's.</summary>
    public Task<DmarcDomain?> FindForAccountAsync(int accountId, int id, CancellationToken ct) =>
        db.DmarcDomains.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id && d.AccountId == accountId, ct);

    public DmarcAccountRecord DescribeForAccount(DmarcDomain d, string? privateToken) =>
        new(d.Id, d.SendingDomainId, d.Domain, d.PublicToken, Iso(d.CreatedAt), "mailto:" + ReportingAddress(platform, d), d.Email,
            privateToken, Dns(d));

    private async Task<DmarcDomain> MonitoredAsync(int accountId, int domainId, CancellationToken ct)
    {
        var domain = await SendingDomainAsync(accountId, domainId, ct);
        return await db.DmarcDomains.FirstOrDefaultAsync(d => d.SendingDomainId == domain.Id && d.AccountId == accountId, ct)
               ?? throw MailroomException.NotFound(NotMonitoredErrorCode, $"DMARC monitoring is not on for '{domain.Name}'.");
    }

    /// <summary>The account's domain, or 510 exactly as the Domains API answers for a domain that is not there (or not the account's).</summary>
    private async Task<SendingDomain> SendingDomainAsync(int accountId, int domainId, CancellationToken ct) =>
        await db.Domains.AsNoTracking().FirstOrDefaultAsync(d => d.Id == domainId && d.AccountId == accountId, ct)
        ?? throw MailroomException.NotFound(PostmarkErrors.DomainNotFound, $"Domain '{domainId}' was not found.");

    /// <summary>The record the private token belongs to; 401 otherwise.</summary>
    public async Task<DmarcDomain> AuthenticateAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(token))
            throw new MailroomException(PostmarkErrors.InvalidToken, "Request does not contain a valid X-Api-Token header.", 401);
        var hash = Secrets.Hash(token);
        var record = await db.DmarcDomains.FirstOrDefaultAsync(d => d.PrivateTokenHash == hash || d.RecoveryTokenHash == hash, ct)
                     ?? throw new MailroomException(PostmarkErrors.InvalidToken, "The X-Api-Token is not valid.", 401);
        if (record.RecoveryTokenHash == hash)
        {
            // The first use of a recovered token makes it the private token; the lost one stops working.
            record.PrivateTokenHash = hash;
            record.RecoveryTokenHash = null;
            await db.SaveChangesAsync(ct);
        }
        return record;
    }

    /// <summary>
    /// <c>POST /token/recover</c>: mails a new token to the digest address of each record for the domain. The answer is
    /// the same whether or not the domain is monitored (no one learns which domains are), and the old token keeps
    /// working until the mailed one is used (<see cref="DmarcDomain.RecoveryTokenHash"/>).
    /// </summary>
    public async Task<DmarcRecoverResult> RecoverAsync(DmarcRecoverRequest request, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Owner)) throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, "'owner' is required.");
        var domain = request.Owner.Trim().TrimEnd('.').ToLowerInvariant();
        var records = await db.DmarcDomains.Where(d => d.Domain == domain).ToListAsync(ct);
        var mails = new List<Queue.QueuedMessage>();
        foreach (var record in records)
        {
            var token = Secrets.NewToken();
            record.RecoveryTokenHash = Secrets.Hash(token);
            mails.Add(DmarcTokenEmail.Compose(record, token, platform, clock.GetUtcNow()));
        }
        await db.SaveChangesAsync(ct);
        if (mails.Count > 0) await queue.EnqueueAsync(mails, ct);
        log.LogInformation("DMARC token recovery for {Domain}: {Count} record(s) mailed", domain, records.Count);
        return new DmarcRecoverResult(true);
    }

    public DmarcRecord Describe(DmarcDomain d) =>
        new(d.Domain, d.PublicToken, Iso(d.CreatedAt), null, "mailto:" + ReportingAddress(platform, d), d.Email);

    public async Task<DmarcRecord> PatchAsync(DmarcDomain d, DmarcPatchRecordRequest request, CancellationToken ct)
    {
        d.Email = ValidEmail(request.Email);
        await db.SaveChangesAsync(ct);
        return Describe(d);
    }

    /// <summary>Stops monitoring: the domain and its reports are deleted; its reporting address no longer accepts mail.</summary>
    public async Task DeleteAsync(DmarcDomain d, CancellationToken ct)
    {
        db.DmarcDomains.Remove(d);
        await db.SaveChangesAsync(ct);
        log.LogInformation("DMARC monitoring deleted for {Domain} ({Id})", d.Domain, d.Id);
    }

    /// <summary>The suggested <c>_dmarc</c> record, as Postmark words it: the value in quotes, starting at p=none.</summary>
    public DmarcDnsSnippet Dns(DmarcDomain d) =>
        new($"_dmarc.{d.Domain}.", $"\"v=DMARC1; p=none; pct=100; rua=mailto:{ReportingAddress(platform, d)}; sp=none; aspf=r;\"");

    /// <summary>True when a <c>v=DMARC1</c> TXT record at <c>_dmarc.&lt;domain&gt;</c> sends aggregate reports to the
    /// hosted address (its <c>rua=</c> list names it, RFC 7489 §6.4), looked up through the configured resolver.</summary>
    public async Task<DmarcVerifyResult> VerifyAsync(DmarcDomain d, CancellationToken ct)
    {
        var name = "_dmarc." + d.Domain;
        var present = await checks.TxtStartingWithAsync(name, "v=DMARC1", ct);
        if (!present.Passed) return new DmarcVerifyResult(false);
        var answer = await dns.TxtAsync(name, ct);
        var address = ReportingAddress(platform, d);
        var verified = answer.Values.Where(v => v.TrimStart().StartsWith("v=DMARC1", StringComparison.OrdinalIgnoreCase))
            .Any(v => RuaAddresses(v).Contains(address, StringComparer.OrdinalIgnoreCase));
        return new DmarcVerifyResult(verified);
    }

    /// <summary>The mailto addresses of a DMARC record's <c>rua</c> tag (RFC 7489 §6.4: comma-separated URIs, each
    /// with an optional <c>!size</c> suffix).</summary>
    internal static IEnumerable<string> RuaAddresses(string record)
    {
        foreach (var tag in record.Split(';'))
        {
            var eq = tag.IndexOf('=');
            if (eq < 0 || !tag[..eq].Trim().Equals("rua", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var uri in tag[(eq + 1)..].Split(','))
            {
                var u = uri.Trim();
                if (!u.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)) continue;
                u = u["mailto:".Length..];
                var bang = u.IndexOf('!');
                yield return Uri.UnescapeDataString(bang >= 0 ? u[..bang] : u);
            }
        }
    }

    public async Task<DmarcRotatedToken> RotateTokenAsync(DmarcDomain d, CancellationToken ct)
    {
        var token = Secrets.NewToken();
        d.PrivateTokenHash = Secrets.Hash(token);
        await db.SaveChangesAsync(ct);
        return new DmarcRotatedToken(token);
    }

    public async Task<DmarcReportsPage> ListReportsAsync(DmarcDomain d, string? fromDate, string? toDate, int? limit, long? after,
        CancellationToken ct)
    {
        var from = ParseDate(fromDate, "from_date");
        var to = ParseDate(toDate, "to_date");
        var take = limit ?? 30;
        if (take < 1 || take > MaxReportsPerPage)
            throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, $"'limit' must be between 1 and {MaxReportsPerPage}.");
        var query = db.DmarcReports.AsNoTracking().Where(r => r.DomainId == d.Id);
        // A report belongs to the days its period starts on: from_date and to_date are whole UTC days, both included.
        if (from is { } f) query = query.Where(r => r.DateRangeBegin >= f);
        if (to is { } t) { var end = t.AddDays(1); query = query.Where(r => r.DateRangeBegin < end); }
        var total = await query.CountAsync(ct);
        var page = query;
        if (after is { } a) page = page.Where(r => r.Id > a);
        var rows = await page.OrderBy(r => r.Id).Take(take + 1)
            .Select(r => new { r.Id, r.PolicyDomain, r.DateRangeBegin, r.DateRangeEnd, r.CreatedAt, r.ExternalId, r.OrganizationName })
            .ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(rows.Count - 1);
        long? next = more ? rows[^1].Id : null;
        var nextUrl = next is null ? null
            : $"/records/my/reports?from_date={fromDate?.Trim()}&to_date={toDate?.Trim()}&limit={take}&after={next}";
        return new DmarcReportsPage(new DmarcReportsMeta(next, nextUrl, total),
            rows.Select(r => new DmarcReportEntry(r.Id, r.PolicyDomain, Iso(r.DateRangeBegin), Iso(r.DateRangeEnd), Iso(r.CreatedAt),
                r.ExternalId, r.OrganizationName)).ToList());
    }

    private async Task<DmarcReport> FindReportAsync(DmarcDomain d, long id, CancellationToken ct) =>
        await db.DmarcReports.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.DomainId == d.Id, ct)
        ?? throw new MailroomException(PostmarkErrors.DmarcNotFound, $"Report {id} was not found.", 404);

    public async Task<DmarcReportDetails> GetReportAsync(DmarcDomain d, long id, CancellationToken ct)
    {
        var r = await FindReportAsync(d, id, ct);
        var rows = await db.DmarcReportRows.AsNoTracking().Where(x => x.ReportId == r.Id).OrderBy(x => x.RowNum).ToListAsync(ct);
        // host_name as Postmark gives it: the source IP's reverse-DNS name (forward-confirmed here, and cached).
        var names = await ptrNames.ResolveAsync(rows.GroupBy(x => x.SourceIp).OrderByDescending(g => g.Sum(x => x.Count))
            .Take(MaxHostNamesPerReport).Select(g => g.Key), ct);
        return new DmarcReportDetails(r.Id, r.PolicyDomain, Iso(r.DateRangeBegin), Iso(r.DateRangeEnd), r.SourceUri, r.ExternalId, r.Email,
            r.OrganizationName, Iso(r.CreatedAt), r.ExtraContactInfo, r.DkimAlignmentMode, r.SpfAlignmentMode, r.DomainPolicy,
            r.SubdomainPolicy, r.FilteringPercentage, r.RawSize, rows.Select(x => Flatten(r, x, names.GetValueOrDefault(x.SourceIp))).ToList());
    }

    /// <summary>The report document as received (decompressed XML).</summary>
    public async Task<byte[]> GetRawReportAsync(DmarcDomain d, long id, CancellationToken ct)
    {
        var r = await FindReportAsync(d, id, ct);
        using var gzip = new GZipStream(new MemoryStream(r.RawXmlGzip), CompressionMode.Decompress);
        var xml = new MemoryStream();
        await gzip.CopyToAsync(xml, ct);
        return xml.ToArray();
    }

    /// <summary>
    /// One SPF and one DKIM result per row, as Postmark's API has it: the first result that passes and is aligned with
    /// the header From domain (relaxed alignment, RFC 7489 §3.1: the same domain or one a subdomain of the other;
    /// approximated without the public suffix list), else the first result. All results stay in dkim_results/spf_results.
    /// </summary>
    internal static DmarcReportRecord Flatten(DmarcReport report, DmarcReportRow row, string? hostName)
    {
        var auth = DmarcAuthResults.FromJson(row.AuthResults);
        var dkim = auth.Dkim.FirstOrDefault(x => x.Result == "pass" && Aligned(x.Domain, row.HeaderFrom)) ?? auth.Dkim.FirstOrDefault();
        var spf = auth.Spf.FirstOrDefault(x => x.Result == "pass" && Aligned(x.Domain, row.HeaderFrom)) ?? auth.Spf.FirstOrDefault();
        return new DmarcReportRecord(row.Id, report.Id, row.RowNum, row.HeaderFrom, row.SourceIp, row.SourceIpVersion, hostName, row.Count,
            row.PolicySpf, row.PolicyDkim, row.Disposition, row.ReasonType, row.ReasonComment, spf?.Domain ?? "", spf?.Result ?? "",
            dkim?.Domain ?? "", dkim?.Result ?? "", Iso(report.CreatedAt), auth.Dkim, auth.Spf);
    }

    internal static bool Aligned(string? domain, string headerFrom)
    {
        if (string.IsNullOrEmpty(domain) || string.IsNullOrEmpty(headerFrom)) return false;
        return domain == headerFrom || domain.EndsWith("." + headerFrom, StringComparison.Ordinal) ||
               headerFrom.EndsWith("." + domain, StringComparison.Ordinal);
    }

    public static string Iso(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTime? ParseDate(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (DateTime.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var date))
            return DateTime.SpecifyKind(date, DateTimeKind.Utc);
        throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, $"'{name}' must be a date as YYYY-MM-DD.");
    }

    private static string ValidDomain(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, "'domain' is required.");
        var name = value.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length > 253 || !EmailAddress.IsValidDomain(name) || !name.Contains('.'))
            throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, $"'{value.Trim()}' is not a valid domain name.");
        return name;
    }

    private static string ValidEmail(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, "'email' is required.");
        var email = value.Trim();
        if (email.Length > 320 || !EmailAddress.IsValid(email)) throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, $"'{email}' is not a valid email address.");
        return email;
    }

    /// <summary>20 random lower-case letters and digits (about 103 bits): the local part of the reporting address, so
    /// it must survive every mail system's case folding.</summary>
    private static string NewPublicToken()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }
}

/// <summary>Every DKIM and SPF result of a row, as stored (JSON).</summary>
public sealed record DmarcAuthResults(IReadOnlyList<DmarcDkimResult> Dkim, IReadOnlyList<DmarcSpfResult> Spf)
{
    private static readonly JsonSerializerOptions Json = new();

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static DmarcAuthResults FromJson(string json) =>
        string.IsNullOrEmpty(json) ? new([], []) : JsonSerializer.Deserialize<DmarcAuthResults>(json, Json) ?? new([], []);
}
