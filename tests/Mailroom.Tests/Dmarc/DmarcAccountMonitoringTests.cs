using Mailroom.Core.Dmarc;

namespace Mailroom.Tests.Dmarc;

/// <summary>DMARC monitoring turned on from the account's side (<c>/domains/{id}/dmarc</c>, account token), scoped to the
/// account, and the report details' <c>host_name</c>.</summary>
public sealed class DmarcAccountMonitoringTests : DnsHostTests
{
    private async Task<(HttpClient Api, string Email)> AccountAsync()
    {
        var (api, _, email) = await AccountWithIdAsync();
        return (api, email);
    }

    private async Task<(HttpClient Api, int Id, string Email)> AccountWithIdAsync()
    {
        var email = $"owner{Guid.NewGuid():N}"[..14] + "@acct.example";
        var account = await Host.CreateAccountAsync("Acct", email);
        return (Host.AccountClient(account.AccountToken), account.AccountID, email);
    }

    private async Task<int> DomainAsync(HttpClient api, string name, bool verify = true)
    {
        var d = await api.PostAsJsonAsync("/domains", new { Name = name }).OkJson();
        var id = d.GetProperty("ID").GetInt32();
        if (verify)
        {
            DnsServer.AddTxt(d.GetProperty("DKIMPendingHost").GetString()!, d.GetProperty("DKIMPendingTextValue").GetString()!);
            Assert.True((await api.PutAsync($"/domains/{id}/verifyDkim", null).OkJson()).GetProperty("DKIMVerified").GetBoolean());
        }
        return id;
    }

    private HttpClient RecordApi(string privateToken)
    {
        var api = Host.Client();
        api.DefaultRequestHeaders.Add("X-Api-Token", privateToken);
        return api;
    }

    private Task<DmarcIngestResult> IngestAsync(string publicToken, string xml) => Host.ScopedAsync(async sp =>
    {
        var db = sp.GetRequiredService<MailroomDb>();
        return await sp.GetRequiredService<DmarcIngestion>().IngestAsync(db.DmarcDomains.Single(d => d.PublicToken == publicToken),
            new MemoryStream(Encoding.UTF8.GetBytes(xml)), "test", default);
    });

    [Fact]
    public async Task AVerifiedDomainTurnsMonitoringOnWithoutASignUpAndAnswersTheReportingAddressAndDnsRecord()
    {
        var (api, _) = await AccountAsync();
        var id = await DomainAsync(api, "brand.example");

        var on = await api.PostAsJsonAsync($"/domains/{id}/dmarc", new { email = "dmarc-digest@brand.example" }).OkJson();

        var publicToken = on.GetProperty("public_token").GetString()!;
        Assert.Equal(id, on.GetProperty("domain_id").GetInt32());
        Assert.Equal("brand.example", on.GetProperty("domain").GetString());
        Assert.Equal("dmarc-digest@brand.example", on.GetProperty("email").GetString());
        Assert.Equal($"mailto:{publicToken}@dmarc.mailroom.test", on.GetProperty("reporting_uri").GetString());
        Assert.Equal("_dmarc.brand.example.", on.GetProperty("dns").GetProperty("name").GetString());
        Assert.Contains($"rua=mailto:{publicToken}@dmarc.mailroom.test;", on.GetProperty("dns").GetProperty("value").GetString());

        // The record is bound to the account and the domain.
        var stored = await Host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<MailroomDb>().DmarcDomains.Single(d => d.PublicToken == publicToken)));
        Assert.Equal(id, stored.SendingDomainId);
        Assert.NotNull(stored.AccountId);

        // The private token, given once, opens Postmark's DMARC API for the same record.
        var record = RecordApi(on.GetProperty("private_token").GetString()!);
        Assert.Equal(publicToken, (await record.GetAsync("/records/my").OkJson()).GetProperty("public_token").GetString());

        // Reading it again, or asking again, answers the same record without a token.
        var again = await api.GetAsync($"/domains/{id}/dmarc").OkJson();
        Assert.Equal((on.GetProperty("id").GetInt32(), JsonValueKind.Null), (again.GetProperty("id").GetInt32(), again.GetProperty("private_token").ValueKind));
        var second = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        Assert.Equal((publicToken, JsonValueKind.Null), (second.GetProperty("public_token").GetString(), second.GetProperty("private_token").ValueKind));

        // A report for the domain lands in its reports.
        await IngestAsync(publicToken, DmarcTestReports.Xml("brand.example", "acct-1"));
        var reports = await record.GetAsync("/records/my/reports").OkJson();
        Assert.Equal("acct-1", Assert.Single(reports.GetProperty("entries").EnumerateArray()).GetProperty("external_id").GetString());
    }

    [Fact]
    public async Task WithoutAnEmailTheDigestGoesToTheAccountsAddress()
    {
        var (api, email) = await AccountAsync();
        var id = await DomainAsync(api, "plain.example");
        await api.PostAsJsonAsync($"/domains/{id}/dmarc", new { email = "not an address" }).Error(422, 422);
        var on = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        Assert.Equal(email, on.GetProperty("email").GetString());
    }

    [Fact]
    public async Task ADomainWhoseDkimIsNotVerifiedCannotBeMonitored()
    {
        var (api, _) = await AccountAsync();
        var id = await DomainAsync(api, "unproven.example", verify: false);
        var message = await api.PostAsync($"/domains/{id}/dmarc", null).Error(422, DmarcService.NotVerifiedErrorCode);
        Assert.Contains("not verified", message);
        await api.GetAsync($"/domains/{id}/dmarc").Error(422, DmarcService.NotMonitoredErrorCode);
    }

    [Fact]
    public async Task TurningMonitoringOffDeletesTheRecordItsReportsAndItsToken()
    {
        var (api, _) = await AccountAsync();
        var id = await DomainAsync(api, "quit.example");
        var on = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        var publicToken = on.GetProperty("public_token").GetString()!;
        await IngestAsync(publicToken, DmarcTestReports.Xml("quit.example", "quit-1"));

        var off = await api.DeleteAsync($"/domains/{id}/dmarc").OkJson();
        Assert.Equal(0, off.GetProperty("ErrorCode").GetInt32());
        Assert.Contains("quit.example", off.GetProperty("Message").GetString());

        await api.GetAsync($"/domains/{id}/dmarc").Error(422, DmarcService.NotMonitoredErrorCode);
        await api.DeleteAsync($"/domains/{id}/dmarc").Error(422, DmarcService.NotMonitoredErrorCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await RecordApi(on.GetProperty("private_token").GetString()!).GetAsync("/records/my")).StatusCode);
        Assert.Equal(0, await Host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<MailroomDb>().DmarcReports.Count(r => r.ExternalId == "quit-1"))));

        // On again: a new record with a new reporting address.
        var back = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        Assert.NotEqual(publicToken, back.GetProperty("public_token").GetString());
    }

    [Fact]
    public async Task DeletingTheDomainStopsItsMonitoring()
    {
        var (api, _) = await AccountAsync();
        var id = await DomainAsync(api, "gone.example");
        var on = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        (await api.DeleteAsync($"/domains/{id}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await RecordApi(on.GetProperty("private_token").GetString()!).GetAsync("/records/my")).StatusCode);
    }

    [Fact]
    public async Task AnotherAccountCannotSeeTurnOnOrTurnOffADomainsMonitoring()
    {
        var (a, _) = await AccountAsync();
        var (b, _) = await AccountAsync();
        var watched = await DomainAsync(a, "tenant-a.example");
        var unwatched = await DomainAsync(a, "tenant-a2.example");
        await a.PostAsync($"/domains/{watched}/dmarc", null).OkJson();
        // B also has a verified domain of the same name: its own, separate record.
        var bSame = await DomainAsync(b, "tenant-a.example");

        foreach (var id in new[] { watched, unwatched })
        {
            await b.GetAsync($"/domains/{id}/dmarc").Error(422, 510);
            await b.PostAsync($"/domains/{id}/dmarc", null).Error(422, 510);
            await b.DeleteAsync($"/domains/{id}/dmarc").Error(422, 510);
        }
        await a.GetAsync($"/domains/{watched}/dmarc").OkJson();
        await a.GetAsync($"/domains/{unwatched}/dmarc").Error(422, DmarcService.NotMonitoredErrorCode);

        await b.GetAsync($"/domains/{bSame}/dmarc").Error(422, DmarcService.NotMonitoredErrorCode);
        var bRecord = await b.PostAsync($"/domains/{bSame}/dmarc", null).OkJson();
        var aRecord = await a.GetAsync($"/domains/{watched}/dmarc").OkJson();
        Assert.NotEqual(aRecord.GetProperty("public_token").GetString(), bRecord.GetProperty("public_token").GetString());
    }

    [Fact]
    public async Task MailroomsDeliveredCountForAnAccountsRecordCountsThatAccountsMailOnly()
    {
        var ours = IPAddress.Parse("198.51.100.25");
        DnsServer.AddA("pm-bounces.mailroom.test", ours);
        var (a, aId, _) = await AccountWithIdAsync();
        var (_, bId, _) = await AccountWithIdAsync();
        var id = await DomainAsync(a, "shared.example");
        var on = await a.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        var publicToken = on.GetProperty("public_token").GetString()!;
        DnsServer.AddTxt("_dmarc.shared.example", on.GetProperty("dns").GetProperty("value").GetString()!.Trim('"'));
        var begin = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
        await IngestAsync(publicToken, $"""
            <feedback><report_metadata><org_name>google.com</org_name><report_id>shared-1</report_id><date_range><begin>{begin.ToUnixTimeSeconds()}</begin><end>{begin.ToUnixTimeSeconds() + 86399}</end></date_range></report_metadata>
            <policy_published><domain>shared.example</domain><p>none</p></policy_published>
            <record><row><source_ip>{ours}</source_ip><count>5</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
            <identifiers><header_from>shared.example</header_from></identifiers><auth_results><dkim><domain>shared.example</domain><result>pass</result></dkim></auth_results></record></feedback>
            """);
        // The send log: one delivery by account A, and one by account B from a domain of the same name.
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            foreach (var (account, rcpt) in new[] { (aId, "a@example.net"), (bId, "b@example.net") })
            {
                var m = new Mailroom.Core.Queue.OutboundMessage
                    { Id = Guid.NewGuid(), AccountId = account, From = "news@shared.example", Subject = "s", Status = Mailroom.Core.Queue.MessageStatus.Sent };
                db.OutboundMessages.Add(m);
                db.MessageEvents.Add(new Mailroom.Core.Queue.MessageEvent
                    { MessageId = m.Id, Recipient = rcpt, Type = Mailroom.Core.Queue.MessageEventType.Delivered, At = begin.AddHours(2).ToUnixTimeMilliseconds() });
            }
            return await db.SaveChangesAsync();
        });

        var sources = await RecordApi(on.GetProperty("private_token").GetString()!).GetAsync("/records/my/sources").OkJson();

        Assert.Equal(5, sources.GetProperty("mailroom_reported_count").GetInt64());
        Assert.Equal(1, sources.GetProperty("mailroom_delivered_count").GetInt64());
    }

    [Fact]
    public async Task ReportDetailsNameEachSourceByItsForwardConfirmedPtr()
    {
        var (api, _) = await AccountAsync();
        var id = await DomainAsync(api, "named.example");
        var on = await api.PostAsync($"/domains/{id}/dmarc", null).OkJson();
        // DmarcTestReports.Xml's rows come from 203.0.113.1 and 2001:db8::2; the first is named and confirmed, the second
        // claims a name that does not resolve back.
        DnsServer.AddPtr(IPAddress.Parse("203.0.113.1"), "mta1.esp.example");
        DnsServer.AddA("mta1.esp.example", IPAddress.Parse("203.0.113.1"));
        DnsServer.AddPtr(IPAddress.Parse("2001:db8::2"), "liar.example");
        await IngestAsync(on.GetProperty("public_token").GetString()!, DmarcTestReports.Xml("named.example", "ptr-1"));
        var record = RecordApi(on.GetProperty("private_token").GetString()!);
        var reportId = (await record.GetAsync("/records/my/reports").OkJson()).GetProperty("entries")[0].GetProperty("id").GetInt64();

        var rows = (await record.GetAsync($"/records/my/reports/{reportId}").OkJson()).GetProperty("records").EnumerateArray()
            .ToDictionary(r => r.GetProperty("source_ip").GetString()!, r => r.GetProperty("host_name"));

        Assert.Equal("mta1.esp.example", rows["203.0.113.1"].GetString());
        Assert.Equal(JsonValueKind.Null, rows["2001:db8::2"].ValueKind);
    }
}
