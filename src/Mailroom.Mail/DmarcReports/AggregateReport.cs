namespace Mailroom.Mail.DmarcReports;

/// <summary>
/// The report-level part of a DMARC aggregate report (RFC 7489 Appendix C <c>report_metadata</c> and
/// <c>policy_published</c>; RFC 9990 adds <c>generator</c>, <c>np</c>, <c>testing</c>, <c>discovery_method</c>).
/// Enumerated values are kept as sent, trimmed and lower-cased (reporters write <c>Pass</c>, <c>HardFail</c>…),
/// unknown values included; a field the report leaves out is null (RFC defaults apply only when displaying).
/// </summary>
public sealed class AggregateReportHeader
{
    /// <summary>Namespace of the root <c>feedback</c> element: empty for RFC 7489, <c>urn:ietf:params:xml:ns:dmarc-2.0</c>
    /// for RFC 9990, or a draft namespace.</summary>
    public string Namespace { get; internal set; } = "";
    public string? Version { get; internal set; }
    public string? OrgName { get; internal set; }
    public string? Email { get; internal set; }
    public string? ExtraContactInfo { get; internal set; }
    public string? ReportId { get; internal set; }
    /// <summary>Start of the reported period (epoch seconds, UTC: RFC 7489 Appendix C <c>DateRangeType</c>).</summary>
    public DateTimeOffset? Begin { get; internal set; }
    public DateTimeOffset? End { get; internal set; }
    public List<string> Errors { get; } = [];
    public string? Generator { get; internal set; }

    public string? Domain { get; internal set; }
    public string? Adkim { get; internal set; }
    public string? Aspf { get; internal set; }
    public string? Policy { get; internal set; }
    public string? SubdomainPolicy { get; internal set; }
    /// <summary>RFC 9989 non-existent subdomain policy.</summary>
    public string? NonexistentSubdomainPolicy { get; internal set; }
    public int? Percentage { get; internal set; }
    public string? FailureOptions { get; internal set; }
    /// <summary>RFC 9989 <c>t=</c> (replaces <c>pct</c>).</summary>
    public string? Testing { get; internal set; }
    public string? DiscoveryMethod { get; internal set; }
}

/// <summary>A parsed aggregate report with all of its rows (for callers that want them in memory; large reports
/// should be read row by row with <see cref="AggregateReportReader"/>).</summary>
public sealed record AggregateReport(AggregateReportHeader Header, IReadOnlyList<AggregateRecord> Records);

/// <summary>One <c>record</c> row. Every DKIM and SPF result of the row is kept (<c>auth_results</c> may hold several).</summary>
public sealed class AggregateRecord
{
    /// <summary>Canonical text form of the source address (IPv4-mapped IPv6 addresses are written as IPv4).</summary>
    public string SourceIp { get; internal set; } = "";
    /// <summary>4 or 6; 0 when the reporter sent something that is not an IP address (kept as sent in <see cref="SourceIp"/>).</summary>
    public int SourceIpVersion { get; internal set; }
    public long Count { get; internal set; }
    public string? Disposition { get; internal set; }
    public string? PolicyDkim { get; internal set; }
    public string? PolicySpf { get; internal set; }
    public List<PolicyOverrideReason> Reasons { get; } = [];
    public string? HeaderFrom { get; internal set; }
    public string? EnvelopeFrom { get; internal set; }
    public string? EnvelopeTo { get; internal set; }
    public List<DkimAuthResult> Dkim { get; } = [];
    public List<SpfAuthResult> Spf { get; } = [];
}

public sealed record PolicyOverrideReason(string? Type, string? Comment);
public sealed record DkimAuthResult(string? Domain, string? Selector, string? Result, string? HumanResult);
public sealed record SpfAuthResult(string? Domain, string? Scope, string? Result, string? HumanResult);

/// <summary>Caps that keep hostile or broken input cheap: every size is counted while streaming, never taken from a
/// header (a gzip ISIZE trailer or a zip entry's declared size can lie).</summary>
public sealed record DmarcReportLimits
{
    /// <summary>Most bytes one decompressed report document may have.</summary>
    public long MaxXmlBytes { get; init; } = 256L * 1024 * 1024;
    /// <summary>Most entries looked at in one zip archive.</summary>
    public int MaxZipEntries { get; init; } = 16;
    /// <summary>Most containers (gzip, zip) wrapped around one another: gzip in zip is real, deeper is not.</summary>
    public int MaxArchiveDepth { get; init; } = 3;
    /// <summary>Most reports taken from one message or file.</summary>
    public int MaxReports { get; init; } = 16;
    /// <summary>Deepest XML element nesting accepted (the schema needs 5).</summary>
    public int MaxElementDepth { get; init; } = 32;
    /// <summary>Most record rows in one report.</summary>
    public long MaxRecords { get; init; } = 2_000_000;

    public static DmarcReportLimits Default { get; } = new();
}

/// <summary>Why a report was refused; <see cref="Exception.Message"/> says what was wrong in words an operator can act on.</summary>
public sealed class DmarcReportException(string message, Exception? inner = null) : Exception(message, inner);
