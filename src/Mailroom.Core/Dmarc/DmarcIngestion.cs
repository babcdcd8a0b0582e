using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Mailroom.Contracts;
using Mailroom.Core.Events;
using Mailroom.Core.Storage;
using Mailroom.Mail.DmarcReports;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Dmarc;

/// <summary>What one ingestion did: reports stored, re-sent copies dropped, documents refused (with reasons).</summary>
public sealed record DmarcIngestResult(int Stored, int Duplicates, IReadOnlyList<string> Refused)
{
    public string Note => $"DMARC: {Stored} report(s) stored, {Duplicates} duplicate(s)" +
                          (Refused.Count > 0 ? "; refused: " + string.Join("; ", Refused) : "");
}

/// <summary>
/// Stores aggregate reports for a monitored domain. Input is untrusted (anyone can mail the reporting address):
/// packaging is sniffed and capped by <see cref="ReportPayloads"/>, documents parsed by
/// <see cref="AggregateReportReader"/>; a report whose policy domain is neither the monitored domain nor a subdomain
/// of it is refused (a report never creates or renames a domain). A re-sent report — same reporter (org, else
/// email), report_id, policy domain and date range — is dropped (Google re-sends identical reports). Identical rows
/// inside one report are kept as they are: they are separate counts and are summed when read, never merged away.
/// Rows are written in batches, so a 100,000-row report does not sit in the change tracker at once.
/// </summary>
public sealed class DmarcIngestion(MailroomDb db, PlatformSettings platform, TimeProvider clock, ILogger<DmarcIngestion> log)
{
    /// <summary>Caps for documents received by mail (the MX listener already caps a message at 25 MB).</summary>
    public static DmarcReportLimits Limits { get; } = new() { MaxXmlBytes = 128L * 1024 * 1024, MaxReports = 16 };
    private const long MaxTotalXmlBytes = 256L * 1024 * 1024;
    private const int BatchSize = 2000;

    /// <summary>Ingests every report in a file or message (bare XML, gzip, zip or an email).</summary>
    public async Task<DmarcIngestResult> IngestAsync(DmarcDomain domain, Stream input, string sourceUri, CancellationToken ct)
    {
        var documents = new List<(string? Name, byte[] Xml)>();
        long total = 0;
        try
        {
            ReportPayloads.Extract(input, d =>
            {
                var buffer = new MemoryStream();
                d.Content.CopyTo(buffer);
                total += buffer.Length;
                if (total > MaxTotalXmlBytes)
                    throw new DmarcReportException($"The reports decompress to more than {MaxTotalXmlBytes} bytes in all.");
                documents.Add((d.Name, buffer.ToArray()));
            }, Limits);
        }
        catch (DmarcReportException e)
        {
            log.LogWarning("DMARC input for {Domain} from {Source} refused: {Reason}", domain.Domain, sourceUri, e.Message);
            return new DmarcIngestResult(0, 0, [e.Message]);
        }

        int stored = 0, duplicates = 0;
        var refused = new List<string>();
        foreach (var (name, xml) in documents)
        {
            try
            {
                if (await IngestDocumentAsync(domain, xml, sourceUri, ct)) stored++;
                else duplicates++;
            }
            catch (DmarcReportException e)
            {
                refused.Add((name is null ? "" : name + ": ") + e.Message);
                log.LogWarning("DMARC report {Name} for {Domain} from {Source} refused: {Reason}", name, domain.Domain, sourceUri, e.Message);
            }
        }
        return new DmarcIngestResult(stored, duplicates, refused);
    }

    /// <summary>
    /// The MX path: if an envelope recipient of a stored inbound message is a hosted reporting address, ingests it and
    /// records the outcome on the message (Processed, or Unmatched/Failed with the reason); returns false when the
    /// message was not sent to a reporting address (it is then a bounce or complaint for <see cref="InboundReportProcessor"/>).
    /// </summary>
    public async Task<bool> TryProcessInboundAsync(long inboundReportId, CancellationToken ct)
    {
        var report = await db.InboundReports.FirstOrDefaultAsync(r => r.Id == inboundReportId, ct);
        if (report is null) return false;
        var host = "@" + DmarcService.ReportingHost(platform);
        var tokens = report.Recipients.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(r => r.EndsWith(host, StringComparison.OrdinalIgnoreCase))
            .Select(r => r[..^host.Length].ToLowerInvariant()).ToList();
        if (tokens.Count == 0) return false;
        if (report.State != InboundReportState.Pending) return true;

        var domain = await db.DmarcDomains.FirstOrDefaultAsync(d => tokens.Contains(d.PublicToken), ct);
        if (domain is null)
        {
            await FinishAsync(report, InboundReportState.Unmatched, "DMARC: no monitored domain has this reporting address", ct);
            return true;
        }
        try
        {
            if (await TryStoreFailureReportAsync(domain, report, ct)) return true;
            var result = await IngestAsync(domain, new MemoryStream(report.Raw, writable: false), "mailto:" + report.MailFrom, ct);
            var state = result.Stored + result.Duplicates > 0 ? InboundReportState.Processed : InboundReportState.Failed;
            await FinishAsync(report, state, result.Note, ct);
            log.LogInformation("Inbound message {Id} for DMARC domain {Domain}: {Note}", report.Id, domain.Domain, result.Note);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogError(e, "DMARC report in inbound message {Id} could not be stored", report.Id);
            db.ChangeTracker.Clear();
            await db.InboundReports.Where(r => r.Id == inboundReportId).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.State, InboundReportState.Failed).SetProperty(r => r.Note, Cut("DMARC: " + e.Message)), ct);
        }
        return true;
    }

    /// <summary>
    /// A failure report (RFC 6591) at a reporting address: its minimised fields are stored, and the received message —
    /// which quotes someone's mail — is dropped from the inbound store (only its size and outcome remain).
    /// </summary>
    private async Task<bool> TryStoreFailureReportAsync(DmarcDomain domain, InboundReport report, CancellationToken ct)
    {
        MimeKit.MimeMessage message;
        try
        {
            message = MimeKit.MimeMessage.Load(new MemoryStream(report.Raw, writable: false), ct);
        }
        catch (FormatException)
        {
            return false;
        }
        if (FailureReportReader.Read(message) is not { } failure) return false;
        db.DmarcFailureReports.Add(new DmarcFailureReport
        {
            DomainId = domain.Id,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            ReporterDomain = Cut(report.MailFrom.Contains('@') ? report.MailFrom[(report.MailFrom.LastIndexOf('@') + 1)..].ToLowerInvariant() : "", 255),
            FeedbackType = Cut(failure.FeedbackType, 64),
            AuthFailure = Cut(failure.AuthFailure ?? "", 64),
            ReportedDomain = Cut(failure.ReportedDomain ?? "", 255),
            SourceIp = Cut(failure.SourceIp ?? "", 64),
            ArrivalDate = failure.ArrivalDate?.UtcDateTime,
            DkimDomains = Cut(string.Join(",", failure.DkimDomains), 1000),
            DkimSelector = Cut(failure.DkimSelector ?? "", 255),
            SpfDns = Cut(failure.SpfDns ?? "", 1000),
            IdentityAlignment = Cut(failure.IdentityAlignment ?? "", 64),
            DeliveryResult = Cut(failure.DeliveryResult ?? "", 64),
            EnvelopeFromDomain = Cut(failure.EnvelopeFromDomain ?? "", 255),
            HeaderFromDomain = Cut(failure.HeaderFromDomain ?? "", 255),
        });
        await db.SaveChangesAsync(ct);
        var note = failure.IsAuthFailure
            ? $"DMARC: failure report ({failure.AuthFailure ?? "unspecified"}) stored, message dropped"
            : $"DMARC: ARF {failure.FeedbackType} report (not a DMARC failure report) stored, message dropped";
        db.ChangeTracker.Clear();
        await db.InboundReports.Where(r => r.Id == report.Id).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.State, InboundReportState.Processed).SetProperty(r => r.Note, note).SetProperty(r => r.Raw, Array.Empty<byte>()), ct);
        log.LogInformation("Inbound message {Id} for DMARC domain {Domain}: {Note}", report.Id, domain.Domain, note);
        return true;
    }

    private async Task FinishAsync(InboundReport report, InboundReportState state, string note, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        await db.InboundReports.Where(r => r.Id == report.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.State, state).SetProperty(r => r.Note, Cut(note)), ct);
    }

    private static string Cut(string s) => s.Length > 500 ? s[..500] : s;

    /// <summary>Stores one document; false when it is a re-sent copy of a stored report.</summary>
    private async Task<bool> IngestDocumentAsync(DmarcDomain domain, byte[] xml, string sourceUri, CancellationToken ct)
    {
        using var reader = AggregateReportReader.Open(new MemoryStream(xml, writable: false), Limits);
        var h = reader.Header;
        var policyDomain = h.Domain ?? throw new DmarcReportException("The report names no policy domain.");
        if (policyDomain != domain.Domain && !policyDomain.EndsWith("." + domain.Domain, StringComparison.Ordinal))
            throw new DmarcReportException($"The report is about {policyDomain}, not {domain.Domain}.");
        var reportId = h.ReportId ?? throw new DmarcReportException("The report has no report_id.");
        if (h.Begin is not { } begin || h.End is not { } end) throw new DmarcReportException("The report has no date_range.");
        var reporter = h.OrgName ?? h.Email ?? "";
        var key = DedupKey(reporter, reportId, policyDomain, begin, end);
        if (await db.DmarcReports.AnyAsync(r => r.DomainId == domain.Id && r.DedupKey == key, ct))
            return false;

        var entity = new DmarcReport
        {
            DomainId = domain.Id,
            DedupKey = key,
            ExternalId = Cut(reportId, 255),
            // parsedmarc's fallback for an empty org_name: the reporter's email domain.
            OrganizationName = Cut(h.OrgName ?? (h.Email is { } e && e.Contains('@') ? e[(e.LastIndexOf('@') + 1)..] : ""), 255),
            Email = Cut(h.Email ?? "", 320),
            ExtraContactInfo = Cut(h.ExtraContactInfo ?? "", 1000),
            SourceUri = Cut(sourceUri, 1000),
            PolicyDomain = policyDomain,
            DateRangeBegin = begin.UtcDateTime,
            DateRangeEnd = end.UtcDateTime,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            DkimAlignmentMode = Cut(h.Adkim ?? "", 16),
            SpfAlignmentMode = Cut(h.Aspf ?? "", 16),
            DomainPolicy = Cut(h.Policy ?? "", 32),
            SubdomainPolicy = Cut(h.SubdomainPolicy ?? "", 32),
            FilteringPercentage = h.Percentage,
            RawXmlGzip = Compress(xml),
            RawSize = xml.Length,
        };

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.DmarcReports.Add(entity);
        await db.SaveChangesAsync(ct);
        var rowNum = 0;
        var pending = 0;
        foreach (var r in reader.ReadRecords())
        {
            var reason = r.Reasons.FirstOrDefault();
            db.DmarcReportRows.Add(new DmarcReportRow
            {
                ReportId = entity.Id,
                RowNum = ++rowNum,
                SourceIp = Cut(r.SourceIp, 64),
                SourceIpVersion = r.SourceIpVersion,
                Count = r.Count,
                Disposition = Cut(r.Disposition ?? "", 32),
                PolicyDkim = Cut(r.PolicyDkim ?? "", 32),
                PolicySpf = Cut(r.PolicySpf ?? "", 32),
                ReasonType = Cut(reason?.Type ?? "", 64),
                ReasonComment = Cut(reason?.Comment ?? "", 1000),
                HeaderFrom = Cut(r.HeaderFrom ?? "", 255),
                EnvelopeFrom = Cut(r.EnvelopeFrom ?? "", 255),
                AuthResults = new DmarcAuthResults(
                    r.Dkim.Select(d => new DmarcDkimResult(d.Domain, d.Selector, d.Result)).ToList(),
                    r.Spf.Select(s => new DmarcSpfResult(s.Domain, s.Scope, s.Result)).ToList()).ToJson(),
            });
            if (++pending >= BatchSize)
            {
                await db.SaveChangesAsync(ct);
                db.ChangeTracker.Clear();
                pending = 0;
            }
        }
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        await db.DmarcReports.Where(x => x.Id == entity.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.RecordCount, rowNum), ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private static string Cut(string s, int max) => s.Length > max ? s[..max] : s;

    internal static string DedupKey(string reporter, string reportId, string policyDomain, DateTimeOffset begin, DateTimeOffset end)
    {
        var text = string.Join('\n', reporter.Trim().ToLowerInvariant(), reportId.Trim(), policyDomain,
            begin.ToUnixTimeSeconds(), end.ToUnixTimeSeconds());
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    private static byte[] Compress(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(data);
        return output.ToArray();
    }
}
