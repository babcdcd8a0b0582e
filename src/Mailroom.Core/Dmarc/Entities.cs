namespace Mailroom.Core.Dmarc;

/// <summary>
/// A monitored domain of Postmark's DMARC API (its "record"): one domain per private token, as Postmark has it.
/// The private token is kept only as its SHA-256 hash (<see cref="Secrets.Hash"/>); the public token names the
/// hosted reporting address <c>&lt;public_token&gt;@dmarc.&lt;platform mail domain&gt;</c>.
/// </summary>
public sealed class DmarcDomain
{
    public int Id { get; set; }
    public string Domain { get; set; } = "";
    public string Email { get; set; } = "";
    public string PublicToken { get; set; } = "";
    public string PrivateTokenHash { get; set; } = "";
    /// <summary>Hash of a token mailed by <c>POST /token/recover</c>: valid beside the private token, and replacing it
    /// when first used, so a stranger asking for recovery cannot lock the owner out.</summary>
    public string? RecoveryTokenHash { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>The account that turned monitoring on for one of its verified domains (<c>POST /domains/{id}/dmarc</c> or the
    /// web app); null for a Postmark-style sign-up through <c>POST /records</c>, which belongs to whoever holds its token.</summary>
    public int? AccountId { get; set; }
    /// <summary>The account's sending domain this record monitors (with <see cref="AccountId"/>); deleting that domain
    /// stops the monitoring with it.</summary>
    public int? SendingDomainId { get; set; }
    /// <summary>The first day (a Monday, UTC) of the last week a digest was sent for; null before the first one.
    /// Claimed with a conditional update, so one node sends each week's digest.</summary>
    public DateTime? LastDigestWeek { get; set; }
}

/// <summary>One aggregate report received for a monitored domain. <see cref="DedupKey"/> is the SHA-256 of
/// (reporter org or email, report_id, policy domain, begin, end): a re-sent copy has the same key and is dropped.</summary>
public sealed class DmarcReport
{
    public long Id { get; set; }
    public int DomainId { get; set; }
    public string DedupKey { get; set; } = "";
    public string ExternalId { get; set; } = "";
    public string OrganizationName { get; set; } = "";
    public string Email { get; set; } = "";
    public string ExtraContactInfo { get; set; } = "";
    public string SourceUri { get; set; } = "";
    public string PolicyDomain { get; set; } = "";
    public DateTime DateRangeBegin { get; set; }
    public DateTime DateRangeEnd { get; set; }
    public DateTime CreatedAt { get; set; }
    public string DkimAlignmentMode { get; set; } = "";
    public string SpfAlignmentMode { get; set; } = "";
    public string DomainPolicy { get; set; } = "";
    public string SubdomainPolicy { get; set; } = "";
    public int? FilteringPercentage { get; set; }
    /// <summary>The report document as received (decompressed XML), gzip-compressed for storage.</summary>
    public byte[] RawXmlGzip { get; set; } = [];
    public long RawSize { get; set; }
    public int RecordCount { get; set; }
}

/// <summary>One row of a report, with every DKIM and SPF result it carried (JSON lists, see <see cref="DmarcAuthResults"/>).</summary>
public sealed class DmarcReportRow
{
    public long Id { get; set; }
    public long ReportId { get; set; }
    public int RowNum { get; set; }
    public string SourceIp { get; set; } = "";
    public int SourceIpVersion { get; set; }
    public long Count { get; set; }
    public string Disposition { get; set; } = "";
    public string PolicyDkim { get; set; } = "";
    public string PolicySpf { get; set; } = "";
    public string ReasonType { get; set; } = "";
    public string ReasonComment { get; set; } = "";
    public string HeaderFrom { get; set; } = "";
    public string EnvelopeFrom { get; set; } = "";
    public string AuthResults { get; set; } = "";
}

/// <summary>A DMARC failure report (RFC 6591) received at a reporting address, personal data minimised: domains
/// only, no addresses, subject or body (<see cref="Mailroom.Mail.DmarcReports.FailureReport"/>); the received
/// message itself is not kept.</summary>
public sealed class DmarcFailureReport
{
    public long Id { get; set; }
    public int DomainId { get; set; }
    public DateTime CreatedAt { get; set; }
    public string ReporterDomain { get; set; } = "";
    public string FeedbackType { get; set; } = "";
    public string AuthFailure { get; set; } = "";
    public string ReportedDomain { get; set; } = "";
    public string SourceIp { get; set; } = "";
    public DateTime? ArrivalDate { get; set; }
    /// <summary>Comma-separated DKIM-Domain values.</summary>
    public string DkimDomains { get; set; } = "";
    public string DkimSelector { get; set; } = "";
    public string SpfDns { get; set; } = "";
    public string IdentityAlignment { get; set; } = "";
    public string DeliveryResult { get; set; } = "";
    public string EnvelopeFromDomain { get; set; } = "";
    public string HeaderFromDomain { get; set; } = "";
}
