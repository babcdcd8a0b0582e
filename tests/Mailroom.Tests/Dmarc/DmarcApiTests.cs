using Mailroom.Core.Dmarc;

namespace Mailroom.Tests.Dmarc;

/// <summary>Postmark's DMARC API at its paths (dmarc.postmarkapp.com/api), reports ingested through the service.</summary>
public sealed class DmarcApiTests : DnsHostTests
{
    private HttpClient _anon = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _anon = Host.Client();
    }

    private Task<(JsonElement Record, HttpClient Api)> CreateAsync(string domain = "wildbit.example") => DmarcTestReports.CreateRecordAsync(Host, domain);

    private Task<DmarcIngestResult> IngestAsync(string publicToken, byte[] input) =>
        Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>();
            var domain = db.DmarcDomains.Single(d => d.PublicToken == publicToken);
            return await sp.GetRequiredService<DmarcIngestion>().IngestAsync(domain, new MemoryStream(input), "mailto:test@reporter.example", default);
        });

    [Fact]
    public async Task CreateAnswersTokensAndAHostedReportingAddress()
    {
        var (record, api) = await CreateAsync();

        Assert.Equal(["domain", "public_token", "created_at", "private_token", "reporting_uri", "email"],
            record.EnumerateObject().Select(p => p.Name));
        var publicToken = record.GetProperty("public_token").GetString()!;
        Assert.Equal($"mailto:{publicToken}@dmarc.mailroom.test", record.GetProperty("reporting_uri").GetString());
        Assert.True(Guid.TryParse(record.GetProperty("private_token").GetString(), out _));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", record.GetProperty("created_at").GetString());

        var my = await api.GetAsync("/records/my").OkJson();
        Assert.Equal(["domain", "public_token", "created_at", "reporting_uri", "email"], my.EnumerateObject().Select(p => p.Name));
        Assert.Equal("wildbit.example", my.GetProperty("domain").GetString());

        // The private token is stored hashed only.
        var stored = await Host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>().DmarcDomains.Single()));
        Assert.Equal(Mailroom.Core.Secrets.Hash(record.GetProperty("private_token").GetString()!), stored.PrivateTokenHash);
    }

    [Fact]
    public async Task RefusesMissingOrWrongTokensAndInvalidInput()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anon.GetAsync("/records/my")).StatusCode);
        var wrong = Host.Client();
        wrong.DefaultRequestHeaders.Add("X-Api-Token", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/records/my/reports")).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _anon.PostAsJsonAsync("/records", new { email = "x@y.example", domain = "not a domain" })).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await _anon.PostAsJsonAsync("/records", new { domain = "ok.example" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest,
            (await _anon.PostAsync("/records", new StringContent("{nope", Encoding.UTF8, "application/json"))).StatusCode);
    }

    [Fact]
    public async Task PatchesEmailDeletesAndRotatesTheToken()
    {
        var (_, api) = await CreateAsync();

        var patched = await api.PatchAsJsonAsync("/records/my", new { email = "new@wildbit.example" }).OkJson();
        Assert.Equal("new@wildbit.example", patched.GetProperty("email").GetString());

        var rotated = await api.PostAsync("/records/my/token/rotate", null).OkJson();
        var newToken = rotated.GetProperty("private_token").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/records/my")).StatusCode);
        var fresh = Host.Client();
        fresh.DefaultRequestHeaders.Add("X-Api-Token", newToken);
        await fresh.GetAsync("/records/my").OkJson();

        Assert.Equal(HttpStatusCode.NoContent, (await fresh.DeleteAsync("/records/my")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync("/records/my")).StatusCode);
    }

    [Fact]
    public async Task RecoveryMailsATokenThatReplacesTheOldOneWhenUsed()
    {
        var (record, api) = await CreateAsync();

        var answer = await _anon.PostAsJsonAsync("/token/recover", new { owner = "wildbit.example" }).OkJson();
        Assert.True(answer.GetProperty("recovery_initiated").GetBoolean());
        // Same answer for a domain nobody monitors: it tells no one which domains are.
        Assert.True((await _anon.PostAsJsonAsync("/token/recover", new { owner = "unknown.example" }).OkJson()).GetProperty("recovery_initiated").GetBoolean());

        var mime = await Host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>()
            .OutboundMessages.Single(m => m.Tag == DmarcTokenEmail.Tag).Mime!));
        var text = MimeKit.MimeMessage.Load(new MemoryStream(mime)).TextBody ?? "";
        var token = System.Text.RegularExpressions.Regex.Match(text, @"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").Value;

        await api.GetAsync("/records/my").OkJson(); // the old token still works until the new one is used
        var recovered = Host.Client();
        recovered.DefaultRequestHeaders.Add("X-Api-Token", token);
        await recovered.GetAsync("/records/my").OkJson();
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.GetAsync("/records/my")).StatusCode);
        Assert.Equal(record.GetProperty("public_token").GetString(), (await recovered.GetAsync("/records/my").OkJson()).GetProperty("public_token").GetString());
    }

    [Fact]
    public async Task DnsSnippetNamesTheReportingAddressAndVerifyChecksIt()
    {
        var (record, api) = await CreateAsync();
        var address = record.GetProperty("reporting_uri").GetString()!;

        var dns = await api.GetAsync("/records/my/dns").OkJson();
        Assert.Equal("_dmarc.wildbit.example.", dns.GetProperty("name").GetString());
        Assert.Equal($"\"v=DMARC1; p=none; pct=100; rua={address}; sp=none; aspf=r;\"", dns.GetProperty("value").GetString());

        Assert.False((await api.PostAsync("/records/my/verify", null).OkJson()).GetProperty("verified").GetBoolean());
        DnsServer.AddTxt("_dmarc.wildbit.example", "v=DMARC1; p=none; rua=mailto:other@elsewhere.example");
        Assert.False((await api.PostAsync("/records/my/verify", null).OkJson()).GetProperty("verified").GetBoolean());
        DnsServer.Remove("_dmarc.wildbit.example");
        DnsServer.AddTxt("_dmarc.wildbit.example", $"v=DMARC1; p=none; rua=mailto:other@elsewhere.example,{address}!10m");
        Assert.True((await api.PostAsync("/records/my/verify", null).OkJson()).GetProperty("verified").GetBoolean());
    }

    [Fact]
    public async Task ListsReportsWithDateFiltersAndPaging()
    {
        var (record, api) = await CreateAsync();
        var token = record.GetProperty("public_token").GetString()!;
        for (var i = 0; i < 3; i++)
        {
            var result = await IngestAsync(token, DmarcTestReports.Gzip(DmarcTestReports.Xml("wildbit.example", $"r{i}", 1700000000 + i * 86400)));
            Assert.Equal(1, result.Stored);
        }

        var first = await api.GetAsync("/records/my/reports?limit=2").OkJson();
        Assert.Equal(3, first.GetProperty("meta").GetProperty("total").GetInt32());
        var entries = first.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal(["id", "domain", "date_range_begin", "date_range_end", "created_at", "external_id", "organization_name"],
            entries[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal("r0", entries[0].GetProperty("external_id").GetString());
        Assert.Equal("google.com", entries[0].GetProperty("organization_name").GetString());
        Assert.Equal("2023-11-14T22:13:20Z", entries[0].GetProperty("date_range_begin").GetString());
        var next = first.GetProperty("meta").GetProperty("next").GetInt64();
        var nextUrl = first.GetProperty("meta").GetProperty("next_url").GetString()!;
        Assert.Equal($"/records/my/reports?from_date=&to_date=&limit=2&after={next}", nextUrl);

        var second = await api.GetAsync(nextUrl).OkJson();
        Assert.Equal("r2", Assert.Single(second.GetProperty("entries").EnumerateArray()).GetProperty("external_id").GetString());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("meta").GetProperty("next").ValueKind);

        var filtered = await api.GetAsync("/records/my/reports?from_date=2023-11-15&to_date=2023-11-15").OkJson();
        Assert.Equal("r1", Assert.Single(filtered.GetProperty("entries").EnumerateArray()).GetProperty("external_id").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await api.GetAsync("/records/my/reports?from_date=yesterday")).StatusCode);
    }

    [Fact]
    public async Task ReportDetailsFlattenRowsAndKeepEveryResultAndRawXml()
    {
        var (record, api) = await CreateAsync();
        var xml = DmarcTestReports.Xml("wildbit.example", "detail-1");
        await IngestAsync(record.GetProperty("public_token").GetString()!, Encoding.UTF8.GetBytes(xml));
        var id = (await api.GetAsync("/records/my/reports").OkJson()).GetProperty("entries")[0].GetProperty("id").GetInt64();

        var details = await api.GetAsync($"/records/my/reports/{id}").OkJson();
        Assert.Equal("detail-1", details.GetProperty("external_id").GetString());
        Assert.Equal("https://support.google.com/a/answer/2466580", details.GetProperty("extra_contact_info").GetString());
        Assert.Equal("none", details.GetProperty("domain_policy").GetString());
        var rows = details.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(("203.0.113.1", 4, 3), (rows[0].GetProperty("source_ip").GetString(), rows[0].GetProperty("source_ip_version").GetInt32(),
            rows[0].GetProperty("count").GetInt32()));
        Assert.Equal(6, rows[1].GetProperty("source_ip_version").GetInt32());
        // Flattened to the first aligned pass (the second DKIM result), all results kept.
        Assert.Equal(("wildbit.example", "pass"), (rows[0].GetProperty("dkim_domain").GetString(), rows[0].GetProperty("dkim_result").GetString()));
        Assert.Equal(2, rows[0].GetProperty("dkim_results").GetArrayLength());
        Assert.Equal(("bounce.esp.example", "softfail"), (rows[0].GetProperty("spf_domain").GetString(), rows[0].GetProperty("spf_result").GetString()));
        Assert.Equal("fail", rows[0].GetProperty("policy_evaluated_spf").GetString());

        var raw = new HttpRequestMessage(HttpMethod.Get, $"/records/my/reports/{id}");
        raw.Headers.Accept.ParseAdd("application/xml");
        var response = await api.SendAsync(raw);
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(xml, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TenantsNeverSeeEachOthersReports()
    {
        var (a, apiA) = await CreateAsync("a.example");
        var (_, apiB) = await CreateAsync("b.example");
        await IngestAsync(a.GetProperty("public_token").GetString()!, Encoding.UTF8.GetBytes(DmarcTestReports.Xml("a.example", "x")));
        var id = (await apiA.GetAsync("/records/my/reports").OkJson()).GetProperty("entries")[0].GetProperty("id").GetInt64();

        Assert.Equal(0, (await apiB.GetAsync("/records/my/reports").OkJson()).GetProperty("meta").GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await apiB.GetAsync($"/records/my/reports/{id}")).StatusCode);
    }

    [Fact]
    public async Task DropsResentReportsAndRefusesReportsForOtherDomains()
    {
        var (record, api) = await CreateAsync();
        var token = record.GetProperty("public_token").GetString()!;
        var xml = DmarcTestReports.Xml("mail.wildbit.example", "dup-1"); // a subdomain's report is the domain's

        Assert.Equal(1, (await IngestAsync(token, Encoding.UTF8.GetBytes(xml))).Stored);
        var again = await IngestAsync(token, DmarcTestReports.Gzip(xml)); // the same report, packaged differently
        Assert.Equal((0, 1), (again.Stored, again.Duplicates));
        var foreign = await IngestAsync(token, Encoding.UTF8.GetBytes(DmarcTestReports.Xml("evil.example", "f")));
        Assert.Equal(0, foreign.Stored);
        Assert.Contains("not wildbit.example", Assert.Single(foreign.Refused));
        var bomb = await IngestAsync(token, Encoding.UTF8.GetBytes("<!DOCTYPE feedback [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><feedback>&x;</feedback>"));
        Assert.Contains("DTD", Assert.Single(bomb.Refused));

        Assert.Equal(1, (await api.GetAsync("/records/my/reports").OkJson()).GetProperty("meta").GetProperty("total").GetInt32());
    }
}

public sealed class DmarcSourcesTests : DnsHostTests
{
    [Fact]
    public async Task GroupsSourcesByIpAndClassifiesMailroomKnownAndUnknown()
    {
        // The Return-Path host's address is where this Mailroom delivers from (the platform SPF authorises a:pm-bounces...).
        DnsServer.AddA("pm-bounces.mailroom.test", IPAddress.Parse("198.51.100.25"));
        var (record, api) = await DmarcTestReports.CreateRecordAsync(Host, "acme.example");
        var xml = """
            <feedback><report_metadata><org_name>google.com</org_name><report_id>s1</report_id><date_range><begin>1700000000</begin><end>1700086399</end></date_range></report_metadata>
            <policy_published><domain>acme.example</domain><p>none</p></policy_published>
            <record><row><source_ip>198.51.100.25</source_ip><count>10</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>
              <identifiers><header_from>acme.example</header_from></identifiers><auth_results><dkim><domain>acme.example</domain><result>pass</result></dkim></auth_results></record>
            <record><row><source_ip>209.85.220.41</source_ip><count>4</count><policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>pass</spf></policy_evaluated></row>
              <identifiers><header_from>acme.example</header_from></identifiers><auth_results><dkim><domain>acme-example.20230601.gappssmtp.com</domain><result>pass</result></dkim><spf><domain>acme.example</domain><result>pass</result></spf></auth_results></record>
            <record><row><source_ip>209.85.220.41</source_ip><count>1</count><policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
              <identifiers><header_from>acme.example</header_from></identifiers><auth_results><spf><domain>acme.example</domain><result>fail</result></spf></auth_results></record>
            <record><row><source_ip>192.0.2.66</source_ip><count>7</count><policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
              <identifiers><header_from>acme.example</header_from></identifiers><auth_results><spf><domain>spammer.example</domain><result>fail</result></spf></auth_results></record>
            </feedback>
            """;
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<Mailroom.Core.Storage.MailroomDb>();
            return await sp.GetRequiredService<DmarcIngestion>().IngestAsync(db.DmarcDomains.Single(), new MemoryStream(Encoding.UTF8.GetBytes(xml)), "test", default);
        });

        var sources = await api.GetAsync("/records/my/sources").OkJson();

        Assert.Equal(22, sources.GetProperty("total_count").GetInt64());
        var list = sources.GetProperty("sources").EnumerateArray().ToList();
        Assert.Equal(["198.51.100.25", "192.0.2.66", "209.85.220.41"], list.Select(s => s.GetProperty("source_ip").GetString()));
        Assert.Equal(["mailroom", "unknown", "known"], list.Select(s => s.GetProperty("classification").GetString()));
        Assert.Equal("Google Workspace", list[2].GetProperty("service").GetString());
        Assert.Equal((5, 4, 0.8), (list[2].GetProperty("count").GetInt64(), list[2].GetProperty("dmarc_pass").GetInt64(),
            list[2].GetProperty("dmarc_pass_rate").GetDouble()));
        Assert.Equal(1.0, list[0].GetProperty("dmarc_pass_rate").GetDouble());
        Assert.Equal(["google.com"], list[0].GetProperty("reporters").EnumerateArray().Select(r => r.GetString()));
    }
}
