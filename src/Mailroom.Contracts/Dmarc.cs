using System.Text.Json.Serialization;

namespace Mailroom.Contracts;

// Postmark's DMARC API (dmarc.postmarkapp.com/api): snake_case JSON, ISO-8601 UTC times.

public sealed record DmarcCreateRecordRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("domain")] string? Domain);

public sealed record DmarcPatchRecordRequest([property: JsonPropertyName("email")] string? Email);

public sealed record DmarcRecoverRequest([property: JsonPropertyName("owner")] string? Owner);

/// <summary>A record of the DMARC API. <c>private_token</c> is shown once, in the answer of <c>POST /records</c>; every other
/// answer leaves it out (null is not written).</summary>
public sealed record DmarcRecord(
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("public_token")] string PublicToken,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("private_token"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrivateToken,
    [property: JsonPropertyName("reporting_uri")] string ReportingUri,
    [property: JsonPropertyName("email")] string Email);

/// <summary>Mailroom's account-side monitoring of a sending domain (<c>/domains/{id}/dmarc</c>, account token): the same
/// fields as the DMARC API's record, snake_case like it, with the suggested DNS record, the record's id and the domain's id.
/// <c>private_token</c> (for the <c>/records/my…</c> calls) is given once, in the answer that turned monitoring on.</summary>
public sealed record DmarcAccountRecord(
    [property: JsonPropertyName("id")] int Id,
    [property: JsonPropertyName("domain_id")] int? DomainId,
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("public_token")] string PublicToken,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("reporting_uri")] string ReportingUri,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("private_token")] string? PrivateToken,
    [property: JsonPropertyName("dns")] DmarcDnsSnippet Dns);

public sealed record DmarcDnsSnippet(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("value")] string Value);

public sealed record DmarcVerifyResult([property: JsonPropertyName("verified")] bool Verified);

public sealed record DmarcRecoverResult([property: JsonPropertyName("recovery_initiated")] bool RecoveryInitiated);

public sealed record DmarcRotatedToken([property: JsonPropertyName("private_token")] string PrivateToken);

public sealed record DmarcReportsPage(
    [property: JsonPropertyName("meta")] DmarcReportsMeta Meta,
    [property: JsonPropertyName("entries")] IReadOnlyList<DmarcReportEntry> Entries);

public sealed record DmarcReportsMeta(
    [property: JsonPropertyName("next")] long? Next,
    [property: JsonPropertyName("next_url")] string? NextUrl,
    [property: JsonPropertyName("total")] int Total);

public sealed record DmarcReportEntry(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("date_range_begin")] string DateRangeBegin,
    [property: JsonPropertyName("date_range_end")] string DateRangeEnd,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("external_id")] string ExternalId,
    [property: JsonPropertyName("organization_name")] string OrganizationName);

public sealed record DmarcReportDetails(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("domain")] string Domain,
    [property: JsonPropertyName("date_range_begin")] string DateRangeBegin,
    [property: JsonPropertyName("date_range_end")] string DateRangeEnd,
    [property: JsonPropertyName("source_uri")] string SourceUri,
    [property: JsonPropertyName("external_id")] string ExternalId,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("organization_name")] string OrganizationName,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("extra_contact_info")] string ExtraContactInfo,
    [property: JsonPropertyName("dkim_alignment_mode")] string DkimAlignmentMode,
    [property: JsonPropertyName("spf_alignment_mode")] string SpfAlignmentMode,
    [property: JsonPropertyName("domain_policy")] string DomainPolicy,
    [property: JsonPropertyName("subdomain_policy")] string SubdomainPolicy,
    [property: JsonPropertyName("filtering_percentage")] int? FilteringPercentage,
    [property: JsonPropertyName("raw_size")] long RawSize,
    [property: JsonPropertyName("records")] IReadOnlyList<DmarcReportRecord> Records);

/// <summary>One row, flattened as Postmark does to one SPF and one DKIM result: the first aligned pass, else the
/// first result. <c>dkim_results</c>/<c>spf_results</c> (an extension) carry all of them.</summary>
public sealed record DmarcReportRecord(
    [property: JsonPropertyName("record_id")] long RecordId,
    [property: JsonPropertyName("report_id")] long ReportId,
    [property: JsonPropertyName("row_num")] int RowNum,
    [property: JsonPropertyName("header_from")] string HeaderFrom,
    [property: JsonPropertyName("source_ip")] string SourceIp,
    [property: JsonPropertyName("source_ip_version")] int SourceIpVersion,
    [property: JsonPropertyName("host_name")] string? HostName,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("policy_evaluated_spf")] string PolicyEvaluatedSpf,
    [property: JsonPropertyName("policy_evaluated_dkim")] string PolicyEvaluatedDkim,
    [property: JsonPropertyName("policy_evaluated_disposition")] string PolicyEvaluatedDisposition,
    [property: JsonPropertyName("policy_evaluated_reason_type")] string PolicyEvaluatedReasonType,
    [property: JsonPropertyName("policy_evaluated_reason_comment")] string PolicyEvaluatedReasonComment,
    [property: JsonPropertyName("spf_domain")] string SpfDomain,
    [property: JsonPropertyName("spf_result")] string SpfResult,
    [property: JsonPropertyName("dkim_domain")] string DkimDomain,
    [property: JsonPropertyName("dkim_result")] string DkimResult,
    [property: JsonPropertyName("created_at")] string CreatedAt,
    [property: JsonPropertyName("dkim_results")] IReadOnlyList<DmarcDkimResult> DkimResults,
    [property: JsonPropertyName("spf_results")] IReadOnlyList<DmarcSpfResult> SpfResults);

public sealed record DmarcDkimResult(
    [property: JsonPropertyName("domain")] string? Domain,
    [property: JsonPropertyName("selector")] string? Selector,
    [property: JsonPropertyName("result")] string? Result);

public sealed record DmarcSpfResult(
    [property: JsonPropertyName("domain")] string? Domain,
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("result")] string? Result);

/// <summary>Mailroom extension <c>GET /records/my/sources</c>: who sends as the domain. <c>dmarc_fail_count</c> is what
/// <c>p=quarantine</c> would send to spam and <c>p=reject</c> would refuse; <c>mailroom_delivered_count</c> is what this
/// Mailroom's send log says it delivered from the domain in the reports' window (null until the domain's DMARC record
/// sends its reports here), beside <c>mailroom_reported_count</c>, what the reporters saw from Mailroom's addresses.</summary>
public sealed record DmarcSources(
    [property: JsonPropertyName("from_date")] string? FromDate,
    [property: JsonPropertyName("to_date")] string? ToDate,
    [property: JsonPropertyName("total_count")] long TotalCount,
    [property: JsonPropertyName("dmarc_fail_count")] long DmarcFailCount,
    [property: JsonPropertyName("mailroom_reported_count")] long MailroomReportedCount,
    [property: JsonPropertyName("mailroom_delivered_count")] long? MailroomDeliveredCount,
    [property: JsonPropertyName("groups")] IReadOnlyList<DmarcSourceGroup> Groups,
    [property: JsonPropertyName("sources")] IReadOnlyList<DmarcSource> Sources);

/// <summary>The sources of one sender: this Mailroom, one known service or forwarder, or one organizational domain (by
/// PTR), or one lone IP.</summary>
public sealed record DmarcSourceGroup(
    [property: JsonPropertyName("classification")] string Classification,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("source_ips")] IReadOnlyList<string> SourceIps,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("dmarc_pass")] long DmarcPass,
    [property: JsonPropertyName("dmarc_fail")] long DmarcFail,
    [property: JsonPropertyName("dkim_pass")] long DkimPass,
    [property: JsonPropertyName("spf_pass")] long SpfPass,
    [property: JsonPropertyName("dmarc_pass_rate")] double DmarcPassRate,
    [property: JsonPropertyName("delivered_count")] long? DeliveredCount);

/// <summary>One sending IP: <c>classification</c> is <c>mailroom</c> (an address this Mailroom delivers from),
/// <c>known</c> (a known sending service), <c>forwarder</c> (a forwarder or mailing list) or <c>unknown</c>; <c>ptr</c> is
/// the IP's forward-confirmed reverse DNS name. Rates are message-weighted (each row counts <c>count</c> times).</summary>
public sealed record DmarcSource(
    [property: JsonPropertyName("source_ip")] string SourceIp,
    [property: JsonPropertyName("source_ip_version")] int SourceIpVersion,
    [property: JsonPropertyName("classification")] string Classification,
    [property: JsonPropertyName("service")] string? Service,
    [property: JsonPropertyName("ptr")] string? Ptr,
    [property: JsonPropertyName("organizational_domain")] string? OrganizationalDomain,
    [property: JsonPropertyName("count")] long Count,
    [property: JsonPropertyName("dmarc_pass")] long DmarcPass,
    [property: JsonPropertyName("dmarc_fail")] long DmarcFail,
    [property: JsonPropertyName("dkim_pass")] long DkimPass,
    [property: JsonPropertyName("spf_pass")] long SpfPass,
    [property: JsonPropertyName("dmarc_pass_rate")] double DmarcPassRate,
    [property: JsonPropertyName("header_from")] IReadOnlyList<string> HeaderFrom,
    [property: JsonPropertyName("reporters")] IReadOnlyList<string> Reporters);
