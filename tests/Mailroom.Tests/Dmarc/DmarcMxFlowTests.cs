using Mailroom.Core.Events;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Dmarc;

/// <summary>
/// The hosted reporting address end to end: a receiver mails an aggregate report with MailKit to the
/// <c>reporting_uri</c> at the MX listener; it appears in <c>GET /records/my/reports</c> and its details, and a re-sent
/// copy does not appear twice.
/// </summary>
public sealed class DmarcMxFlowTests : IAsyncLifetime
{
    private MailroomHost _host = null!;
    private int _mxPort;

    public async ValueTask InitializeAsync()
    {
        _mxPort = SmtpSink.FreeTcpPort();
        _host = await MailroomHost.StartAsync(tweak: s => s with { Roles = "api,mx", Mx = $"127.0.0.1:{_mxPort}", PlatformDomain = "mailroom.test" });
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    private Task SendToMxAsync(MimeMessage message, string rcpt) =>
        RemoteMta.SendAsync(_mxPort, message, "noreply-dmarc-support@google.com", rcpt);

    /// <summary>A report mail as Google sends them: the whole message body is the gzip, labelled application/gzip.</summary>
    private static MimeMessage ReportMail(string to, byte[] gzip)
    {
        var m = new MimeMessage { Subject = "Report domain: wildbit.example Submitter: google.com Report-ID: 1234" };
        m.From.Add(MailboxAddress.Parse("noreply-dmarc-support@google.com"));
        m.To.Add(MailboxAddress.Parse(to));
        m.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "DMARC aggregate report." },
            new MimePart("application", "octet-stream") { FileName = "google.com!wildbit.example!1700000000!1700086399.xml.gz",
                Content = new MimeContent(new MemoryStream(gzip)), ContentTransferEncoding = ContentEncoding.Base64 },
        };
        return m;
    }

    [Fact]
    public async Task ReportMailedToTheReportingAddressAppearsOnceInTheReports()
    {
        var (record, api) = await DmarcTestReports.CreateRecordAsync(_host);
        var address = record.GetProperty("reporting_uri").GetString()!["mailto:".Length..];
        var gzip = DmarcTestReports.Gzip(DmarcTestReports.Xml("wildbit.example", "1234", rows: 3));

        await SendToMxAsync(ReportMail(address, gzip), address);
        await SendToMxAsync(ReportMail(address, gzip), address.ToUpperInvariant()); // re-sent, and the address case-folded

        var list = await api.GetAsync("/records/my/reports").OkJson();
        var entry = Assert.Single(list.GetProperty("entries").EnumerateArray());
        Assert.Equal(("1234", "google.com", "wildbit.example"), (entry.GetProperty("external_id").GetString(),
            entry.GetProperty("organization_name").GetString(), entry.GetProperty("domain").GetString()));
        var details = await api.GetAsync($"/records/my/reports/{entry.GetProperty("id").GetInt64()}").OkJson();
        Assert.Equal(3, details.GetProperty("records").GetArrayLength());
        Assert.Equal("mailto:noreply-dmarc-support@google.com", details.GetProperty("source_uri").GetString());

        var states = await _host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<MailroomDb>().InboundReports
            .OrderBy(r => r.Id).Select(r => new { r.State, r.Note }).ToList()));
        Assert.Equal(2, states.Count);
        Assert.All(states, s => Assert.Equal(InboundReportState.Processed, s.State));
        Assert.Contains("1 duplicate", states[1].Note);
    }

    [Fact]
    public async Task UnknownReportingAddressesAreKeptUnmatchedAndOtherHostsRefused()
    {
        await SendToMxAsync(ReportMail("nobody@dmarc.mailroom.test", DmarcTestReports.Gzip(DmarcTestReports.Xml("x.example", "1"))),
            "nobody@dmarc.mailroom.test");
        var state = await _host.ScopedAsync(sp => Task.FromResult(sp.GetRequiredService<MailroomDb>().InboundReports.Single()));
        Assert.Equal(InboundReportState.Unmatched, state.State);

        var e = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            SendToMxAsync(ReportMail("a@dmarc.elsewhere.example", [1, 2]), "a@dmarc.elsewhere.example"));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, e.StatusCode);
    }

    [Fact]
    public async Task FailureReportsAreStoredMinimisedAndTheirMessageDropped()
    {
        var record = await _host.Client().PostAsJsonAsync("/records", new { email = "ops@wildbit.example", domain = "wildbit.example" }).OkJson();
        var address = record.GetProperty("reporting_uri").GetString()!["mailto:".Length..];
        var m = new MimeMessage { Subject = "FW: Quarterly numbers" };
        m.From.Add(MailboxAddress.Parse("ruf@receiver.example"));
        m.To.Add(MailboxAddress.Parse(address));
        var report = new MultipartReport("feedback-report")
        {
            new TextPart("plain") { Text = "Authentication failure report." },
            new MimePart("message", "feedback-report") { Content = new MimeContent(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(
                "Feedback-Type: auth-failure\r\nUser-Agent: R/1\r\nVersion: 1\r\nOriginal-Mail-From: <ceo@wildbit.example>\r\n" +
                "Source-IP: 192.0.2.77\r\nReported-Domain: wildbit.example\r\nAuth-Failure: dmarc\r\n"))) },
            new MessagePart { Message = MimeMessage.Load(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(
                "From: ceo@wildbit.example\r\nTo: someone@receiver.example\r\nSubject: Quarterly numbers\r\n\r\nConfidential.\r\n"))) },
        };
        m.Body = report;

        await SendToMxAsync(m, address);

        var (failure, inbound) = await _host.ScopedAsync(sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            return Task.FromResult((db.DmarcFailureReports.Single(), db.InboundReports.Single()));
        });
        Assert.Equal(("auth-failure", "dmarc", "192.0.2.77", "wildbit.example", "google.com"),
            (failure.FeedbackType, failure.AuthFailure, failure.SourceIp, failure.EnvelopeFromDomain, failure.ReporterDomain)); // the reporter is the envelope sender's domain
        Assert.Equal(InboundReportState.Processed, inbound.State);
        Assert.Empty(inbound.Raw); // the quoted message (someone's mail) is not kept
    }
}
