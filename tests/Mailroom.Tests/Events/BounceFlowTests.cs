using Mailroom.Cli;
using Mailroom.Core.Events;
using MailKit.Net.Smtp;
using MimeKit;
using static Mailroom.Tests.Infrastructure.ReportMail;

namespace Mailroom.Tests.Events;

/// <summary>
/// Bounces end to end: delivery through a relay to a loopback sink that answers 5xx; reports (RFC 3464 DSN,
/// RFC 5965 ARF, RFC 3834 auto-reply) sent with MailKit to the MX listener; pause and resume of a stream.
/// Stages are driven by hand (roles api and mx), so nothing runs behind the test's back.
/// </summary>
public sealed class BounceFlowTests() : RelayedHostTests(mx: true, sinkTls: false)
{
    protected override MailroomSettings Configure(MailroomSettings settings) =>
        settings with { Breaker = new StreamBreakerOptions { MinimumSample = 20 } };

    private static async Task<Guid> SendAsync(Tenant t, string to, string stream = "outbound", string tag = "", string from = "app@mailroom.test")
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = from, To = to, Subject = "Hello", TextBody = "Hi", MessageStream = stream, Tag = tag }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    private static async Task<List<JsonElement>> EventsAsync(Tenant t, Guid id)
    {
        var d = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        return d.GetProperty("MessageEvents").EnumerateArray().ToList();
    }

    private async Task<SinkMessage> SendAndDeliverAsync(Tenant t, string to)
    {
        var before = Sink.Messages.Count;
        await SendAsync(t, to);
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());
        Assert.Equal(before + 1, Sink.Messages.Count);
        return Sink.Messages.Last();
    }

    private async Task<List<Bounce>> BouncesInStoreAsync() =>
        await Host.ScopedAsync(async sp => await sp.GetRequiredService<MailroomDb>().Bounces.AsNoTracking().OrderBy(b => b.Id).ToListAsync());

    private async Task<List<InboundReport>> ReportsInStoreAsync() =>
        await Host.ScopedAsync(async sp => await sp.GetRequiredService<MailroomDb>().InboundReports.AsNoTracking().OrderBy(r => r.Id).ToListAsync());

    [Fact]
    public async Task A550DuringDeliveryRecordsAHardBounceAndSuppressesTheAddressInThatStreamOnly()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "second", Name = "Second", MessageStreamType = "Transactional" }).OkJson();
        Sink.RecipientReply = to => to == "gone@example.net" ? (550, "5.1.1 <gone@example.net>: Recipient address rejected: User unknown") : null;
        var id = await SendAsync(t, "gone@example.net", tag: "welcome");
        await PrepareAsync();
        Assert.Equal(1, await DeliverAsync());

        var list = await t.ServerApi.GetAsync("/bounces?count=10&offset=0").OkJson();
        Assert.Equal(1, list.GetProperty("TotalCount").GetInt32());
        var b = list.GetProperty("Bounces")[0];
        Assert.Equal("HardBounce", b.GetProperty("Type").GetString());
        Assert.Equal(1, b.GetProperty("TypeCode").GetInt32());
        Assert.Equal("gone@example.net", b.GetProperty("Email").GetString());
        Assert.Equal(id.ToString(), b.GetProperty("MessageID").GetString());
        Assert.Equal("welcome", b.GetProperty("Tag").GetString());
        Assert.Equal("outbound", b.GetProperty("MessageStream").GetString());
        Assert.True(b.GetProperty("Inactive").GetBoolean());
        Assert.True(b.GetProperty("CanActivate").GetBoolean());
        Assert.False(b.GetProperty("DumpAvailable").GetBoolean());
        Assert.Contains("5.1.1", b.GetProperty("Details").GetString());

        var events = await EventsAsync(t, id);
        var bounced = Assert.Single(events, e => e.GetProperty("Type").GetString() == "Bounced");
        Assert.Equal(b.GetProperty("ID").GetInt64().ToString(), bounced.GetProperty("Details").GetProperty("BounceID").GetString());
        Assert.Contains(events, e => e.GetProperty("Type").GetString() == "SubscriptionChanged");

        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        var s = Assert.Single(dump.GetProperty("Suppressions").EnumerateArray());
        Assert.Equal("HardBounce", s.GetProperty("SuppressionReason").GetString());
        Assert.Equal("Recipient", s.GetProperty("Origin").GetString());

        // The next send to it is refused (406) in this stream; another stream still delivers.
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "gone@example.net", Subject = "Again", TextBody = "Hi" }).Error(422, 406);
        Sink.RecipientReply = _ => null;
        await SendAsync(t, "gone@example.net", stream: "second");
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());
        Assert.Contains(Sink.Messages, m => m.Recipients.Contains("gone@example.net"));
    }

    [Fact]
    public async Task AMailboxFull552IsASoftBounceThatSuppressesNothing()
    {
        var t = await Host.CreateTenantAsync();
        Sink.RecipientReply = _ => (552, "5.2.2 Mailbox full");
        await SendAsync(t, "full@example.net");
        await PrepareAsync();
        await DeliverAsync();
        var b = Assert.Single(await BouncesInStoreAsync());
        Assert.Equal(Mailroom.Mail.Bounces.BounceType.SoftBounce, b.Type);
        Assert.False(b.Inactive);
        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        Assert.Empty(dump.GetProperty("Suppressions").EnumerateArray());
    }

    [Fact]
    public async Task ADsnAtTheVerpAddressIsMatchedToItsMessageAndRecipient()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "later-gone@example.net");
        var id = (await BouncesInStoreAsync()).Count;
        Assert.Equal(0, id);

        await SendToMxAsync(Dsn(delivered.MailFrom, "later-gone@example.net", "5.1.1", "550 5.1.1 The email account that you tried to reach does not exist", delivered.Data), delivered.MailFrom);

        var report = Assert.Single(await ReportsInStoreAsync());
        Assert.Equal(InboundReportState.Processed, report.State);
        var bounce = Assert.Single(await BouncesInStoreAsync());
        Assert.Equal(Mailroom.Mail.Bounces.BounceType.HardBounce, bounce.Type);
        Assert.Equal("later-gone@example.net", bounce.Email);
        Assert.True(bounce.Inactive);

        var api = await t.ServerApi.GetAsync($"/bounces/{bounce.Id}").OkJson();
        Assert.True(api.GetProperty("DumpAvailable").GetBoolean());
        Assert.Contains("multipart/report", api.GetProperty("Content").GetString());
        var dump = await t.ServerApi.GetAsync($"/bounces/{bounce.Id}/dump").OkJson();
        Assert.Contains("Final-Recipient: rfc822; later-gone@example.net", dump.GetProperty("Body").GetString());
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "later-gone@example.net", Subject = "Again", TextBody = "Hi" }).Error(422, 406);
        var events = await EventsAsync(t, bounce.MessageId!.Value);
        Assert.Contains(events, e => e.GetProperty("Type").GetString() == "Bounced" && e.GetProperty("Details").GetProperty("BounceID").GetString() == bounce.Id.ToString());
    }

    [Fact]
    public async Task ADsnNamingAnotherAddressThanTheVerpIndexIsKeptButRecordsNothing()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "real@example.net");
        // Even at the genuine address, a report naming someone else than the recipient at that index is not placed.
        await SendToMxAsync(Dsn(delivered.MailFrom, "victim@example.net", "5.1.1", "550 5.1.1 unknown", delivered.Data), delivered.MailFrom);
        Assert.Empty(await BouncesInStoreAsync());
        Assert.Equal(InboundReportState.Unmatched, Assert.Single(await ReportsInStoreAsync()).State);
    }

    [Fact]
    public async Task ADsnForAnUnknownMessageIsKeptAndLogged()
    {
        await Host.CreateTenantAsync();
        // Signed with the platform's key, as delivery would: the address is genuine, the message is not known.
        var signer = await Host.App.Services.GetRequiredService<VerpKeyring>().SignerAsync(CancellationToken.None);
        var unknown = signer.Encode(Guid.NewGuid(), 0, "pm-bounces.mailroom.test");
        var original = Encoding.ASCII.GetBytes("From: a@mailroom.test\r\nTo: x@example.net\r\nSubject: s\r\nMessage-ID: <nope@example>\r\n\r\nbody\r\n");
        await SendToMxAsync(Dsn(unknown, "x@example.net", "5.1.1", "550 5.1.1 unknown", original), unknown);
        Assert.Empty(await BouncesInStoreAsync());
        var report = Assert.Single(await ReportsInStoreAsync());
        Assert.Equal(InboundReportState.Unmatched, report.State);
        Assert.Contains("not known", report.Note);
    }

    [Fact]
    public async Task AnArfReportIsASpamComplaintThatSuppressesAndCannotBeActivated()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "angry@example.net");
        await SendToMxAsync(Arf(delivered.MailFrom, "angry@example.net", delivered.Data), delivered.MailFrom);

        var bounce = Assert.Single(await BouncesInStoreAsync());
        Assert.Equal(Mailroom.Mail.Bounces.BounceType.SpamComplaint, bounce.Type);
        var api = await t.ServerApi.GetAsync($"/bounces/{bounce.Id}").OkJson();
        Assert.Equal(100001, api.GetProperty("TypeCode").GetInt32());
        Assert.False(api.GetProperty("CanActivate").GetBoolean());
        Assert.True(api.GetProperty("Inactive").GetBoolean());
        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        Assert.Equal("SpamComplaint", Assert.Single(dump.GetProperty("Suppressions").EnumerateArray()).GetProperty("SuppressionReason").GetString());
        await t.ServerApi.PutAsync($"/bounces/{bounce.Id}/activate", null).Error(422, 1003);
        var deleted = await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/suppressions/delete", new { Suppressions = new[] { new { EmailAddress = "angry@example.net" } } }).OkJson();
        Assert.Equal("Failed", deleted.GetProperty("Suppressions")[0].GetProperty("Status").GetString());
    }

    [Fact]
    public async Task AnAutoReplyIsAnAutoResponderBounceWithoutSuppression()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "away@example.net");
        var reply = new MimeMessage();
        reply.From.Add(MailboxAddress.Parse("away@example.net"));
        reply.To.Add(MailboxAddress.Parse(delivered.MailFrom));
        reply.Subject = "Out of Office: Hello";
        reply.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834 §5
        reply.Body = new TextPart("plain") { Text = "I am out of the office until Monday." };
        await SendToMxAsync(reply, delivered.MailFrom);

        var bounce = Assert.Single(await BouncesInStoreAsync());
        Assert.Equal(Mailroom.Mail.Bounces.BounceType.AutoResponder, bounce.Type);
        Assert.False(bounce.Inactive);
        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        Assert.Empty(dump.GetProperty("Suppressions").EnumerateArray());
        await SendAsync(t, "away@example.net"); // still accepted
    }

    [Fact]
    public async Task TheMxListenerRefusesRecipientsItDoesNotManage()
    {
        await Host.CreateTenantAsync();
        var m = new MimeMessage();
        m.From.Add(MailboxAddress.Parse("someone@example.net"));
        m.To.Add(MailboxAddress.Parse("victim@elsewhere.example"));
        m.Subject = "relay?";
        m.Body = new TextPart("plain") { Text = "x" };
        var e = await Assert.ThrowsAsync<SmtpCommandException>(() => SendToMxAsync(m, "victim@elsewhere.example"));
        Assert.Equal(SmtpStatusCode.MailboxUnavailable, e.StatusCode);
        Assert.Contains("5.7.1", e.Message);
        Assert.Empty(await ReportsInStoreAsync());
    }

    [Fact]
    public async Task APausedStreamAcceptsButHoldsDeliveryUntilResumedWhileOtherStreamsFlow()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "second", Name = "Second", MessageStreamType = "Transactional" }).OkJson();
        var paused = await t.ServerApi.PostAsJsonAsync("/message-streams/outbound/pause", new { Reason = "Investigating a complaint" }).OkJson();
        Assert.Equal("Investigating a complaint", paused.GetProperty("Paused").GetProperty("Reason").GetString());
        Assert.Equal(JsonValueKind.Null, (await t.ServerApi.GetAsync("/message-streams/second").OkJson()).GetProperty("Paused").ValueKind);

        await SendAsync(t, "held@example.net");
        await SendAsync(t, "flows@example.net", stream: "second");
        Assert.Equal(2, await PrepareAsync());
        Assert.Equal(1, await DeliverAsync());
        Assert.Equal(["flows@example.net"], Sink.Messages.SelectMany(m => m.Recipients));
        Assert.Equal(0, await DeliverAsync());

        var resumed = await t.ServerApi.PostAsync("/message-streams/outbound/resume", null).OkJson();
        Assert.Equal(JsonValueKind.Null, resumed.GetProperty("Paused").ValueKind);
        Assert.Equal(1, await DeliverAsync());
        Assert.Contains(Sink.Messages, m => m.Recipients.Contains("held@example.net"));
    }

    [Fact]
    public async Task TheBreakerPausesAStreamOnABounceWaveAndSaysWhy()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "second", Name = "Second", MessageStreamType = "Transactional" }).OkJson();
        Sink.RecipientReply = to => to.StartsWith("gone") ? (550, "5.1.1 User unknown") : null;
        for (var i = 0; i < 17; i++)
            await SendAsync(t, $"ok{i}@example.net");
        for (var i = 0; i < 3; i++)
            await SendAsync(t, $"gone{i}@example.net"); // 3 of 20 = 15% > 10%
        await SendAsync(t, "other@example.net", stream: "second");
        Assert.Equal(21, await PrepareAsync());
        Assert.Equal(21, await DeliverAsync());

        var stream = await t.ServerApi.GetAsync("/message-streams/outbound").OkJson();
        var reason = stream.GetProperty("Paused").GetProperty("Reason").GetString();
        Assert.Contains("3 hard bounces in the last 20 deliveries (15%", reason);
        Assert.Equal(JsonValueKind.Null, (await t.ServerApi.GetAsync("/message-streams/second").OkJson()).GetProperty("Paused").ValueKind);

        // Held: still accepted, not delivered until the customer resumes.
        await SendAsync(t, "after@example.net");
        await PrepareAsync();
        Assert.Equal(0, await DeliverAsync());
        await t.ServerApi.PostAsync("/message-streams/outbound/resume", null).OkJson();
        Assert.Equal(1, await DeliverAsync());
    }

    [Fact]
    public async Task TheBreakerWaitsForItsMinimumSample()
    {
        var t = await Host.CreateTenantAsync();
        Sink.RecipientReply = _ => (550, "5.1.1 User unknown");
        for (var i = 0; i < 5; i++)
            await SendAsync(t, $"gone{i}@example.net");
        await PrepareAsync();
        Assert.Equal(5, await DeliverAsync());
        Assert.Equal(JsonValueKind.Null, (await t.ServerApi.GetAsync("/message-streams/outbound").OkJson()).GetProperty("Paused").ValueKind);
    }

    // Forged reports (issue 10, defect 4): whoever received a copy knows its Message-ID, its To list and their own
    // return path; only the VERP address Mailroom really used for a recipient (its MAC) may change suppressions.

    /// <summary>A domain of <paramref name="t"/>'s account with DKIM and Return-Path verified (as DomainVerificationTests
    /// does through DNS, set here directly); returns its return-path host.</summary>
    private async Task<string> VerifiedDomainAsync(Tenant t, string name, bool verified = true)
    {
        var d = await t.AccountApi.PostAsJsonAsync("/domains", new { Name = name }).OkJson();
        var id = d.GetProperty("ID").GetInt32();
        if (verified)
            await Host.ScopedAsync(async sp =>
            {
                var db = sp.GetRequiredService<MailroomDb>();
                var domain = await db.Domains.Include(x => x.Keys).FirstAsync(x => x.Id == id);
                domain.DkimVerified = true;
                domain.ReturnPathVerified = true;
                foreach (var k in domain.Keys)
                {
                    k.State = Mailroom.Core.Identities.DkimKeyState.Active;
                    k.ActivatedAt = DateTime.UtcNow;
                }
                return await db.SaveChangesAsync();
            });
        return d.GetProperty("ReturnPathDomain").GetString()!;
    }

    /// <summary>Sends one message to a victim and an attacker (co-recipients) and returns both copies as delivered.</summary>
    private async Task<(SinkMessage Victim, SinkMessage Attacker)> SendToVictimAndAttackerAsync(Tenant t, string from = "app@mailroom.test")
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = from, To = "victim@example.net, attacker@example.net", Subject = "Hello", TextBody = "Hi" }).OkJson();
        Assert.Equal(1, await PrepareAsync());
        Assert.Equal(2, await DeliverAsync());
        return (Sink.Messages.Last(m => m.Recipients.Contains("victim@example.net")), Sink.Messages.Last(m => m.Recipients.Contains("attacker@example.net")));
    }

    /// <summary>The attacker's own return path with its recipient index changed to <paramref name="index"/>.</summary>
    private static string WithIndex(string verp, int index) =>
        System.Text.RegularExpressions.Regex.Replace(verp, @"^(pm_bounces\+[0-9a-f]{32}-)\d+", "${1}" + index);

    /// <summary>The return path with the last character of its local part changed (the MAC's last digit).</summary>
    private static string WithLastLocalCharChanged(string verp)
    {
        var at = verp.LastIndexOf('@');
        return verp[..(at - 1)] + (verp[at - 1] == '0' ? '1' : '0') + verp[at..];
    }

    private async Task AssertNothingSuppressedAsync(Tenant t)
    {
        Assert.Empty((await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
        Assert.DoesNotContain(await BouncesInStoreAsync(), b => b.Inactive || b.Type is Mailroom.Mail.Bounces.BounceType.HardBounce or Mailroom.Mail.Bounces.BounceType.SpamComplaint);
        await SendAsync(t, "victim@example.net"); // still accepted (no 406)
    }

    [Fact]
    public async Task AForgedDsnToTheBarePlatformReturnPathNamingACoRecipientSuppressesNoOne()
    {
        var t = await Host.CreateTenantAsync();
        var (_, attacker) = await SendToVictimAndAttackerAsync(t);
        var bare = "pm_bounces@" + attacker.MailFrom.Split('@')[1];
        // The attacker's copy carries the Message-ID (and X-PM-Message-Id) and the To list naming the victim.
        await SendToMxAsync(Dsn(bare, "victim@example.net", "5.1.1", "550 5.1.1 No such user", attacker.Data), bare);

        Assert.Empty(await BouncesInStoreAsync());
        await AssertNothingSuppressedAsync(t);
        // The platform's own return-path host belongs to no account: only MAC-proven reports count there.
        Assert.Equal(InboundReportState.Unmatched, Assert.Single(await ReportsInStoreAsync()).State);
    }

    [Fact]
    public async Task AForgedArfComplaintWithoutAValidMacCreatesNoSpamComplaint()
    {
        var t = await Host.CreateTenantAsync();
        var (_, attacker) = await SendToVictimAndAttackerAsync(t);
        var bare = "pm_bounces@" + attacker.MailFrom.Split('@')[1];
        await SendToMxAsync(Arf(bare, "victim@example.net", attacker.Data), bare);
        // The attacker's own return path, pointed at the victim's index (the victim's copy is index 0, To order).
        var retargeted = WithIndex(attacker.MailFrom, 0);
        Assert.NotEqual(attacker.MailFrom, retargeted);
        await SendToMxAsync(Arf(retargeted, "victim@example.net", attacker.Data), retargeted);

        Assert.Empty(await BouncesInStoreAsync());
        await AssertNothingSuppressedAsync(t);
        Assert.All(await ReportsInStoreAsync(), r => Assert.Equal(InboundReportState.Unmatched, r.State));
    }

    [Fact]
    public async Task AVerpWithATamperedMacOrIndexChangesNothing()
    {
        var t = await Host.CreateTenantAsync();
        var (victim, attacker) = await SendToVictimAndAttackerAsync(t);
        var retargeted = WithIndex(attacker.MailFrom, 0);
        await SendToMxAsync(Dsn(retargeted, "victim@example.net", "5.1.1", "550 5.1.1 No such user", attacker.Data), retargeted);
        var tamperedVictim = WithLastLocalCharChanged(victim.MailFrom);
        await SendToMxAsync(Dsn(tamperedVictim, "victim@example.net", "5.1.1", "550 5.1.1 No such user", attacker.Data), tamperedVictim);
        var tamperedOwn = WithLastLocalCharChanged(attacker.MailFrom);
        await SendToMxAsync(Dsn(tamperedOwn, "attacker@example.net", "5.1.1", "550 5.1.1 No such user", attacker.Data), tamperedOwn);

        Assert.Empty(await BouncesInStoreAsync());
        await AssertNothingSuppressedAsync(t);
    }

    [Fact]
    public async Task AReportToOneAccountsReturnPathHostNamingAnotherAccountsMessageIsNotMatchedToIt()
    {
        var a = await Host.CreateTenantAsync();
        var b = await Host.CreateTenantAsync();
        var hostOfA = await VerifiedDomainAsync(a, "shop-a.example");
        var unverifiedHostOfA = await VerifiedDomainAsync(a, "draft-a.example", verified: false);
        await VerifiedDomainAsync(b, "shop-b.example");
        var (_, attacker) = await SendToVictimAndAttackerAsync(b, from: "app@shop-b.example");
        Assert.EndsWith("@pm-bounces.shop-b.example", attacker.MailFrom);
        var messageOfB = Assert.Single(await MessageIdsAsync(b));

        foreach (var host in new[] { hostOfA, unverifiedHostOfA })
        {
            var rcpt = "bounces@" + host;
            await SendToMxAsync(Dsn(rcpt, "victim@example.net", "5.1.1", "550 5.1.1 No such user", attacker.Data), rcpt);
            await SendToMxAsync(Arf(rcpt, "victim@example.net", attacker.Data), rcpt);
        }

        Assert.Empty(await BouncesInStoreAsync());
        await AssertNothingSuppressedAsync(b);
        Assert.DoesNotContain(await EventsAsync(b, messageOfB), e => e.GetProperty("Type").GetString() is "Bounced" or "SubscriptionChanged");
        Assert.All(await ReportsInStoreAsync(), r => Assert.Equal(InboundReportState.Unmatched, r.State));
    }

    private static async Task<List<Guid>> MessageIdsAsync(Tenant tenant) =>
        (await tenant.ServerApi.GetAsync("/messages/outbound?count=10&offset=0").OkJson()).GetProperty("Messages").EnumerateArray()
            .Select(m => Guid.Parse(m.GetProperty("MessageID").GetString()!)).ToList();

    [Fact]
    public async Task GenuineReportsAtTheVerpAddressMailroomUsedStillSuppressOnlyThatRecipient()
    {
        var t = await Host.CreateTenantAsync();
        var host = await VerifiedDomainAsync(t, "shop.example");
        var (victim, attacker) = await SendToVictimAndAttackerAsync(t, from: "app@shop.example");
        Assert.EndsWith("@" + host, victim.MailFrom);
        // The victim's mail system bounces to the return path it was given (read from the sink): that suppresses.
        await SendToMxAsync(Dsn(victim.MailFrom, "victim@example.net", "5.1.1", "550 5.1.1 No such user", victim.Data), victim.MailFrom);
        var bounce = Assert.Single(await BouncesInStoreAsync());
        Assert.Equal("victim@example.net", bounce.Email);
        Assert.True(bounce.Inactive);
        // A relay that upper-cases the address changes nothing (RFC 5321 §2.4: hosts should not, some do).
        await SendToMxAsync(Arf(attacker.MailFrom.ToUpperInvariant(), "attacker@example.net", attacker.Data), attacker.MailFrom.ToUpperInvariant());
        var dump = await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson();
        Assert.Equal(
            [("attacker@example.net", "SpamComplaint"), ("victim@example.net", "HardBounce")],
            dump.GetProperty("Suppressions").EnumerateArray()
                .Select(s => (s.GetProperty("EmailAddress").GetString()!, s.GetProperty("SuppressionReason").GetString()!)).OrderBy(s => s.Item1).ToList());
    }

    [Fact]
    public async Task ADsnWithoutVerpAtTheAccountsOwnReturnPathHostIsInformationOnly()
    {
        var t = await Host.CreateTenantAsync();
        var host = await VerifiedDomainAsync(t, "shop.example");
        var id = await SendAsync(t, "plain@example.net", from: "app@shop.example");
        await PrepareAsync();
        await DeliverAsync();
        var delivered = Sink.Messages.Last();
        Assert.EndsWith("@" + host, delivered.MailFrom);
        // Some MTAs bounce to a fixed address of the return-path host; the enclosed original names the message, but
        // anyone could have written it, so it is recorded on the message as information and suppresses nothing.
        var rcpt = "bounces@" + host;
        await SendToMxAsync(Dsn(rcpt, "plain@example.net", "5.1.1", "550 5.1.1 No such user", delivered.Data), rcpt);
        Assert.Empty(await BouncesInStoreAsync());
        await AssertNothingSuppressedAsync(t);
        var report = Assert.Single(await ReportsInStoreAsync());
        Assert.Equal(InboundReportState.Processed, report.State);
        Assert.Contains("information only", report.Note);
        var bounced = Assert.Single(await EventsAsync(t, id), e => e.GetProperty("Type").GetString() == "Bounced");
        Assert.Equal("plain@example.net", bounced.GetProperty("Recipient").GetString());
        Assert.Equal("False", bounced.GetProperty("Details").GetProperty("Verified").GetString());
        Assert.Equal("", bounced.GetProperty("Details").GetProperty("BounceID").GetString());
    }

    [Fact]
    public async Task ADelayedDsnIsRecordedWithoutSuppression()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "slow@example.net");
        await SendToMxAsync(Dsn(delivered.MailFrom, "slow@example.net", "4.2.2", "452 4.2.2 Mailbox full", delivered.Data, action: "delayed"), delivered.MailFrom);
        var bounce = Assert.Single(await BouncesInStoreAsync());
        Assert.False(bounce.Inactive);
        Assert.NotEqual(Mailroom.Mail.Bounces.BounceType.HardBounce, bounce.Type);
        Assert.Empty((await t.ServerApi.GetAsync("/message-streams/outbound/suppressions/dump").OkJson()).GetProperty("Suppressions").EnumerateArray());
    }

    [Fact]
    public async Task AReportLeftPendingIsProcessedLater()
    {
        var t = await Host.CreateTenantAsync();
        var delivered = await SendAndDeliverAsync(t, "crash@example.net");
        var dsn = Dsn(delivered.MailFrom, "crash@example.net", "5.1.1", "550 5.1.1 unknown", delivered.Data);
        using var raw = new MemoryStream();
        await dsn.WriteToAsync(raw);
        // Stored, then the process stopped before processing: the listener processes Pending reports when it starts.
        var id = await Host.ScopedAsync(sp => sp.GetRequiredService<InboundReportProcessor>().StoreAsync("", [delivered.MailFrom], raw.ToArray(), CancellationToken.None));
        Assert.Equal(InboundReportState.Pending, Assert.Single(await ReportsInStoreAsync()).State);
        var pending = await Host.ScopedAsync(sp => sp.GetRequiredService<InboundReportProcessor>().PendingAsync(CancellationToken.None));
        Assert.Equal([id], pending);
        await Host.ScopedAsync(sp => sp.GetRequiredService<InboundReportProcessor>().ProcessAsync(id, CancellationToken.None));
        Assert.Equal(InboundReportState.Processed, Assert.Single(await ReportsInStoreAsync()).State);
        Assert.Single(await BouncesInStoreAsync());
        // Processing twice records nothing more.
        await Host.ScopedAsync(sp => sp.GetRequiredService<InboundReportProcessor>().ProcessAsync(id, CancellationToken.None));
        Assert.Single(await BouncesInStoreAsync());
    }
}
