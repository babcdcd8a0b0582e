using Mailroom.Cli;
using Mailroom.Core.Delivery;
using Mailroom.Core.Dmarc;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using MimeKit;

namespace Mailroom.Tests.Dmarc;

/// <summary>
/// "Who sends as you" with reverse DNS, known services and forwarders, what a stricter policy would block, Mailroom's
/// own send log beside what reporters saw, and the weekly digest delivered to a loopback sink.
/// </summary>
public sealed class DmarcSendersAndDigestTests : DnsHostTests
{
    private SmtpSink _sink = null!;

    private static readonly IPAddress Ours = IPAddress.Parse("198.51.100.25");

    protected override MailroomSettings Configure(MailroomSettings settings) => settings with { Relay = $"127.0.0.1:{_sink.Port}" };

    public override async ValueTask InitializeAsync()
    {
        _sink = new SmtpSink();
        await base.InitializeAsync();
        DnsServer.AddA("pm-bounces.mailroom.test", Ours);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _sink.DisposeAsync();
    }

    private Task<(JsonElement Record, HttpClient Api)> CreateRecordAsync(string domain) => DmarcTestReports.CreateRecordAsync(Host, domain);

    private Task IngestAsync(string domain, string xml) => Host.ScopedAsync(async sp =>
    {
        var db = sp.GetRequiredService<MailroomDb>();
        return await sp.GetRequiredService<DmarcIngestion>().IngestAsync(db.DmarcDomains.Single(d => d.Domain == domain),
            new MemoryStream(Encoding.UTF8.GetBytes(xml)), "test", default);
    });

    private static string Report(string domain, string id, DateTimeOffset begin, params string[] records) => $"""
        <feedback><report_metadata><org_name>google.com</org_name><report_id>{id}</report_id><date_range><begin>{begin.ToUnixTimeSeconds()}</begin><end>{begin.ToUnixTimeSeconds() + 86399}</end></date_range></report_metadata>
        <policy_published><domain>{domain}</domain><p>none</p></policy_published>{string.Concat(records)}</feedback>
        """;

    private static string Row(string ip, int count, string dkim, string spf, string auth, string reason = "") =>
        $"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>{spf}</spf>"
        + (reason.Length > 0 ? $"<reason><type>{reason}</type></reason>" : "")
        + $"</policy_evaluated></row><identifiers><header_from>acme.example</header_from></identifiers><auth_results>{auth}</auth_results></record>";

    private const string AcmeDkimPass = "<dkim><domain>acme.example</domain><result>pass</result></dkim>";
    private const string AcmeSpfFail = "<spf><domain>acme.example</domain><result>fail</result></spf>";

    [Fact]
    public async Task NamesSourcesByConfirmedPtrAndClassifiesServicesForwardersAndUnknowns()
    {
        var (_, api) = await CreateRecordAsync("acme.example");
        // A SendGrid IP named only by its forward-confirmed PTR (no service domain in the auth results).
        DnsServer.AddPtr(IPAddress.Parse("167.89.0.10"), "o1.ptr1234.sendgrid.net");
        DnsServer.AddA("o1.ptr1234.sendgrid.net", IPAddress.Parse("167.89.0.10"));
        // A PTR claiming Google that does not resolve back: not believed.
        DnsServer.AddPtr(IPAddress.Parse("192.0.2.66"), "mail-fake.google.com");
        DnsServer.AddA("mail-fake.google.com", IPAddress.Parse("192.0.2.99"));
        // Two IPs of one unknown company, grouped by the organizational domain of their PTR names.
        foreach (var (ip, host) in new[] { ("203.0.113.7", "mx1.bigcorp.co.uk"), ("203.0.113.8", "mx2.eu.bigcorp.co.uk") })
        {
            DnsServer.AddPtr(IPAddress.Parse(ip), host);
            DnsServer.AddA(host, IPAddress.Parse(ip));
        }
        var begin = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
        await IngestAsync("acme.example", Report("acme.example", "r1", begin,
            Row(Ours.ToString(), 50, "pass", "pass", AcmeDkimPass),
            Row("167.89.0.10", 20, "pass", "fail", AcmeDkimPass + "<spf><domain>em123.acme.example</domain><result>pass</result></spf>"),
            Row("192.0.2.66", 6, "fail", "fail", AcmeSpfFail),
            Row("198.51.100.200", 4, "pass", "fail", AcmeDkimPass + AcmeSpfFail),          // forwarded as is: DKIM survives, SPF breaks
            Row("198.51.100.201", 3, "fail", "fail", AcmeSpfFail, reason: "mailing_list"), // the reporter says: a list
            Row("209.85.220.69", 2, "pass", "fail", AcmeDkimPass + "<spf><domain>googlegroups.com</domain><result>pass</result></spf>"),
            Row("203.0.113.7", 5, "fail", "fail", AcmeSpfFail),
            Row("203.0.113.8", 1, "fail", "pass", "<spf><domain>acme.example</domain><result>pass</result></spf>")));

        var answer = await api.GetAsync("/records/my/sources").OkJson();

        var sources = answer.GetProperty("sources").EnumerateArray().ToDictionary(s => s.GetProperty("source_ip").GetString()!);
        string Class(string ip) => sources[ip].GetProperty("classification").GetString()!;
        string? Str(string ip, string field) => sources[ip].GetProperty(field).ValueKind == JsonValueKind.Null ? null : sources[ip].GetProperty(field).GetString();
        Assert.Equal("mailroom", Class(Ours.ToString()));
        Assert.Equal(("known", "SendGrid", "o1.ptr1234.sendgrid.net", "sendgrid.net"),
            (Class("167.89.0.10"), Str("167.89.0.10", "service"), Str("167.89.0.10", "ptr"), Str("167.89.0.10", "organizational_domain")));
        Assert.Equal(("unknown", null), (Class("192.0.2.66"), Str("192.0.2.66", "ptr")));
        Assert.Equal("forwarder", Class("198.51.100.200"));
        Assert.Equal("forwarder", Class("198.51.100.201"));
        Assert.Equal(("forwarder", "Google Groups"), (Class("209.85.220.69"), Str("209.85.220.69", "service")));
        Assert.Equal(("unknown", "bigcorp.co.uk"), (Class("203.0.113.7"), Str("203.0.113.7", "organizational_domain")));

        // What p=quarantine / p=reject would block: the messages that passed neither DKIM nor SPF.
        Assert.Equal(6, sources["192.0.2.66"].GetProperty("dmarc_fail").GetInt64());
        Assert.Equal(6 + 3 + 5, answer.GetProperty("dmarc_fail_count").GetInt64());
        Assert.Equal(91, answer.GetProperty("total_count").GetInt64());

        var groups = answer.GetProperty("groups").EnumerateArray().ToList();
        var bigcorp = groups.Single(g => g.GetProperty("name").GetString() == "bigcorp.co.uk");
        Assert.Equal((6L, 2), (bigcorp.GetProperty("count").GetInt64(), bigcorp.GetProperty("source_ips").GetArrayLength()));
        Assert.Equal("unknown", bigcorp.GetProperty("classification").GetString());
        // The domain's DMARC record does not send reports here yet: no send-log figure for a domain anyone could name.
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("mailroom_delivered_count").ValueKind);
        Assert.Equal(50, answer.GetProperty("mailroom_reported_count").GetInt64());
    }

    [Fact]
    public async Task MailroomGroupShowsWhatTheSendLogDeliveredBesideWhatWasReported()
    {
        var (record, api) = await CreateRecordAsync("acme.example");
        var begin = new DateTimeOffset(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
        await IngestAsync("acme.example", Report("acme.example", "r1", begin, Row(Ours.ToString(), 3, "pass", "pass", AcmeDkimPass)));
        // The send log: two recipients delivered from acme.example (one from a subdomain) inside the report's day, one
        // outside it, and one from another domain.
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            void Delivered(string from, DateTimeOffset at, string rcpt)
            {
                var m = new OutboundMessage { Id = Guid.NewGuid(), From = from, Subject = "s", Status = MessageStatus.Sent };
                db.OutboundMessages.Add(m);
                db.MessageEvents.Add(new MessageEvent { MessageId = m.Id, Recipient = rcpt, Type = MessageEventType.Delivered, At = at.ToUnixTimeMilliseconds() });
            }
            Delivered("Acme <news@acme.example>", begin.AddHours(2), "a@example.net");
            Delivered("billing@mail.acme.example", begin.AddHours(5), "b@example.net");
            Delivered("news@acme.example", begin.AddDays(3), "c@example.net");
            Delivered("news@notacme.example", begin.AddHours(2), "d@example.net");
            return await db.SaveChangesAsync();
        });
        var address = record.GetProperty("reporting_uri").GetString()!["mailto:".Length..];
        DnsServer.AddTxt("_dmarc.acme.example", $"v=DMARC1; p=none; rua=mailto:{address}");

        var answer = await api.GetAsync("/records/my/sources").OkJson();

        Assert.Equal(2, answer.GetProperty("mailroom_delivered_count").GetInt64());
        Assert.Equal(3, answer.GetProperty("mailroom_reported_count").GetInt64());
        var mailroom = answer.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("classification").GetString() == "mailroom");
        Assert.Equal((3L, 2L), (mailroom.GetProperty("count").GetInt64(), mailroom.GetProperty("delivered_count").GetInt64()));
    }

    [Fact]
    public async Task WeeklyDigestIsDeliveredOnceWithTheStoredReportsNumbers()
    {
        await CreateRecordAsync("acme.example");
        // The host's clock starts on Sunday 2026-11-29; the record is created then. Last week: 23–29 November.
        var lastWeek = new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero);
        await IngestAsync("acme.example", Report("acme.example", "w1", lastWeek.AddDays(1),
            Row(Ours.ToString(), 80, "pass", "pass", AcmeDkimPass), Row("192.0.2.66", 20, "fail", "fail", AcmeSpfFail)));
        await IngestAsync("acme.example", Report("acme.example", "w2", lastWeek.AddDays(4), Row(Ours.ToString(), 40, "pass", "fail", AcmeDkimPass)));
        // The week before: a smaller volume, and 192.0.2.77 seen then (so not new last week).
        await IngestAsync("acme.example", Report("acme.example", "p1", lastWeek.AddDays(-3),
            Row(Ours.ToString(), 50, "pass", "pass", AcmeDkimPass), Row("192.0.2.77", 10, "fail", "fail", AcmeSpfFail)));
        await IngestAsync("acme.example", Report("acme.example", "w3", lastWeek.AddDays(5), Row("192.0.2.77", 5, "fail", "fail", AcmeSpfFail)));

        Assert.Equal(0, await SendDueAsync()); // Sunday: the week is not over
        // Monday 2026-11-30. The hourly DmarcDigestWorker wakes on the same clock and may be the one that sends it.
        Host.Clock.Advance(TimeSpan.FromDays(1));
        await SendDueAsync();
        Assert.Equal(0, await SendDueAsync()); // once per week, whoever sent it
        Assert.Equal(1, await DigestsQueuedAsync(atLeast: 1));
        await Host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        await Host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);

        var got = Assert.Single(_sink.Messages);
        Assert.Equal(["ops@acme.example"], got.Recipients);
        var mail = MimeMessage.Load(new MemoryStream(got.Data));
        Assert.Equal("DMARC weekly digest for acme.example: 2026-11-23 to 2026-11-29", mail.Subject);
        var text = mail.TextBody!.ReplaceLineEndings("\n");
        // The numbers of the three reports of the week: 80 + 20 + 40 + 5 messages; DMARC pass 80 + 40; SPF pass 80.
        Assert.Contains("Reports received: 3\n", text);
        Assert.Contains("Messages reported: 145\n", text);
        Assert.Contains("DMARC pass: 120 (82.8%)\n", text);
        Assert.Contains("DKIM pass: 120 (82.8%)\n", text);
        Assert.Contains("SPF pass: 80 (55.2%)\n", text);
        Assert.Contains("p=quarantine / p=reject: 25\n", text);
        // The week before: 60 messages, 50 passing (83.3 %): +85 messages, pass rate -0.6 points.
        Assert.Contains("Change from the week before: +85 messages (60 the week before); DMARC pass rate -0.6 points\n", text);
        // 192.0.2.66 is new; 192.0.2.77 was seen the week before.
        var newSources = text[text.IndexOf("New unknown sources:", StringComparison.Ordinal)..];
        Assert.Contains("192.0.2.66: 20 messages", newSources);
        Assert.DoesNotContain("192.0.2.77", newSources);
        Assert.Contains("<h1>DMARC weekly digest for acme.example</h1>", mail.HtmlBody);

        // A week later, the next digest.
        Host.Clock.Advance(TimeSpan.FromDays(7));
        await SendDueAsync();
        Assert.Equal(0, await SendDueAsync());
        Assert.Equal(2, await DigestsQueuedAsync(atLeast: 2));
    }

    private Task<int> SendDueAsync() => Host.ScopedAsync(sp => sp.GetRequiredService<DmarcDigest>().SendDueAsync(CancellationToken.None));

    /// <summary>Digest emails queued, once at least <paramref name="atLeast"/> are (a worker that claimed a week may still be
    /// composing its digest; 30 s at most).</summary>
    private async Task<int> DigestsQueuedAsync(int atLeast)
    {
        for (var i = 0; ; i++)
        {
            var n = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.CountAsync(m => m.Tag == DmarcDigest.Tag));
            if (n >= atLeast || i >= 300) return n;
            await Task.Delay(100);
        }
    }
}
