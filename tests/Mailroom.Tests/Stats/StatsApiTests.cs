using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Stats;
using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Stats;

/// <summary>
/// The Stats API (spec §9) against a known set of events made through the real pipeline: sends prepared and
/// delivered to a loopback sink (some refused with 550 and 552), a spam complaint (ARF) to the MX listener, and opens
/// and clicks added through <see cref="StatsCounters"/> as the tracking code adds them. Runs on SQLite, and on
/// PostgreSQL when MAILROOM_TEST_DATABASE names one.
/// </summary>
public sealed class StatsApiTests() : RelayedHostTests(mx: true, sinkTls: false)
{
    private static Task<JsonElement> SendAsync(Tenant t, object[] to, string tag, string stream = "outbound") =>
        t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = string.Join(", ", to), Subject = "Hello", TextBody = "Hi", HtmlBody = "<p>Hi</p>",
            Tag = tag, MessageStream = stream, TrackOpens = true, TrackLinks = "HtmlOnly",
        }).OkJson();

    private Task ComplainAsync(SinkMessage delivered, string recipient) =>
        RemoteMta.SendAsync(MxPort, ReportMail.Arf(delivered.MailFrom, recipient, delivered.Data), "fbl@isp.example.net", delivered.MailFrom);

    /// <summary>Opens and clicks as the tracking code records them: through StatsCounters, in a transaction.</summary>
    private async Task TrackAsync(int serverId, string stream, string tag, string recipient, params (StatsMetric Metric, string Key)[] events)
    {
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            await using var tx = await db.Database.BeginTransactionAsync();
            await StatsCounters.AddAsync(db, events.Select(e => StatsIncrement.For(serverId, stream, tag, Host.Clock.GetUtcNow(), e.Metric, recipient, e.Key)).ToList(), CancellationToken.None);
            await tx.CommitAsync();
            return 0;
        });
    }

    private static long N(JsonElement e, string key) => e.TryGetProperty(key, out var v) ? v.GetInt64() : 0;

    /// <summary>
    /// Day 1 (2026-11-29 Eastern): "welcome" on outbound to ok1, ok2@gmail.com, gone (550: hard bounce), full (552: soft
    /// bounce); "news" on stream second to ok3 and ok4; a complaint from ok1; ok1 opens twice from Apple Mail (Desktop),
    /// clicks once in HTML with Chrome. Day 2 (2026-11-30): "welcome" to ok5@gmail.com, which opens once on Mobile.
    /// </summary>
    private async Task<Tenant> KnownEventsAsync()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "second", Name = "Second", MessageStreamType = "Transactional" }).OkJson();
        Sink.RecipientReply = to => to switch
        {
            "gone@example.net" => (550, "5.1.1 <gone@example.net>: Recipient address rejected: User unknown"),
            "full@example.net" => (552, "5.2.2 Mailbox full"),
            _ => null,
        };
        await SendAsync(t, ["ok1@example.net", "ok2@gmail.com", "gone@example.net", "full@example.net"], "welcome");
        await SendAsync(t, ["ok3@example.net"], "news", "second");
        await SendAsync(t, ["ok4@example.net"], "news", "second");
        await RunPipelineAsync();
        var ok1 = Sink.Messages.First(m => m.Recipients.Contains("ok1@example.net"));
        await ComplainAsync(ok1, "ok1@example.net");
        await Eventually.True(async () => await Host.ScopedAsync(async sp =>
            await sp.GetRequiredService<MailroomDb>().Bounces.AnyAsync(b => b.Type == Mailroom.Mail.Bounces.BounceType.SpamComplaint)));
        var serverId = t.Server.ID;
        await TrackAsync(serverId, "outbound", "welcome", "ok1@example.net",
            (StatsMetric.Opened, ""), (StatsMetric.UniqueOpen, ""), (StatsMetric.OpenPlatform, "Desktop"), (StatsMetric.OpenClient, "Apple Mail"),
            (StatsMetric.OpenReadTime, "20s+"), (StatsMetric.Opened, ""),
            (StatsMetric.Clicked, ""), (StatsMetric.UniqueClick, ""), (StatsMetric.ClickBrowser, "Chrome"), (StatsMetric.ClickPlatform, "Desktop"),
            (StatsMetric.ClickLocation, "HTML"));

        Host.Clock.Advance(TimeSpan.FromDays(1));
        await SendAsync(t, ["ok5@gmail.com"], "welcome");
        await RunPipelineAsync();
        await TrackAsync(serverId, "outbound", "welcome", "ok5@gmail.com",
            (StatsMetric.Opened, ""), (StatsMetric.UniqueOpen, ""), (StatsMetric.OpenPlatform, "Mobile"), (StatsMetric.OpenClient, "Gmail"));
        return t;
    }

    [Fact]
    public async Task OverviewCountsEachRecipientOfTheKnownSends()
    {
        var t = await KnownEventsAsync();
        var o = await t.ServerApi.GetAsync("/stats/outbound").OkJson();
        Assert.False(o.TryGetProperty("Days", out _));
        Assert.Equal(7, N(o, "Sent"));
        Assert.Equal(2, N(o, "Bounced"));
        Assert.Equal(0, N(o, "SMTPApiErrors"));
        Assert.Equal(Math.Round(200.0 / 7, 3), o.GetProperty("BounceRate").GetDouble());
        Assert.Equal(1, N(o, "SpamComplaints"));
        Assert.Equal(Math.Round(100.0 / 7, 3), o.GetProperty("SpamComplaintsRate").GetDouble());
        Assert.Equal(3, N(o, "Opens"));
        Assert.Equal(2, N(o, "UniqueOpens"));
        Assert.Equal(7, N(o, "Tracked"));
        Assert.Equal(7, N(o, "WithOpenTracking"));
        Assert.Equal(7, N(o, "WithLinkTracking"));
        Assert.Equal(1, N(o, "TotalClicks"));
        Assert.Equal(1, N(o, "UniqueLinksClicked"));
        Assert.Equal(2, N(o, "WithClientRecorded"));
        Assert.Equal(2, N(o, "WithPlatformRecorded"));
        Assert.Equal(1, N(o, "WithReadTimeRecorded"));
        foreach (var key in new[] { "TotalTrackedLinksSent" })
            Assert.True(o.TryGetProperty(key, out _), key);
    }

    [Fact]
    public async Task SendsHaveOneDayEntryPerDayAndFilterByTagStreamAndDates()
    {
        var t = await KnownEventsAsync();
        var all = await t.ServerApi.GetAsync("/stats/outbound/sends").OkJson();
        Assert.Equal(7, N(all, "Sent"));
        var days = all.GetProperty("Days").EnumerateArray().ToList();
        Assert.Equal(["2026-11-29", "2026-11-30"], days.Select(d => d.GetProperty("Date").GetString()));
        Assert.Equal([6L, 1L], days.Select(d => N(d, "Sent")));

        var welcome = await t.ServerApi.GetAsync("/stats/outbound/sends?tag=welcome").OkJson();
        Assert.Equal(5, N(welcome, "Sent"));
        var news = await t.ServerApi.GetAsync("/stats/outbound/sends?tag=news").OkJson();
        Assert.Equal(2, N(news, "Sent"));
        Assert.Single(news.GetProperty("Days").EnumerateArray());
        var second = await t.ServerApi.GetAsync("/stats/outbound/sends?messagestream=second").OkJson();
        Assert.Equal(2, N(second, "Sent"));
        var outbound = await t.ServerApi.GetAsync("/stats/outbound?messagestream=outbound").OkJson();
        Assert.Equal(5, N(outbound, "Sent"));
        Assert.Equal(40.0, outbound.GetProperty("BounceRate").GetDouble());

        var dayTwo = await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2026-11-30&todate=2026-11-30").OkJson();
        Assert.Equal(1, N(dayTwo, "Sent"));
        var nothing = await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2026-12-01").OkJson();
        Assert.False(nothing.TryGetProperty("Sent", out _)); // zero keys are left out
        Assert.Empty(nothing.GetProperty("Days").EnumerateArray());
        var empty = await t.ServerApi.GetAsync("/stats/outbound/sends?tag=none").OkJson();
        Assert.Empty(empty.GetProperty("Days").EnumerateArray());
    }

    [Fact]
    public async Task BouncesSpamAndTrackedHaveTheirPostmarkKeys()
    {
        var t = await KnownEventsAsync();
        var b = await t.ServerApi.GetAsync("/stats/outbound/bounces").OkJson();
        Assert.Equal(1, N(b, "HardBounce"));
        Assert.Equal(1, N(b, "SoftBounce"));
        Assert.False(b.TryGetProperty("SpamComplaint", out _));
        var day = Assert.Single(b.GetProperty("Days").EnumerateArray());
        Assert.Equal("2026-11-29", day.GetProperty("Date").GetString());
        Assert.Equal(1, N(day, "HardBounce"));

        var spam = await t.ServerApi.GetAsync("/stats/outbound/spam").OkJson();
        Assert.Equal(1, N(spam, "SpamComplaint"));
        Assert.Equal(1, N(Assert.Single(spam.GetProperty("Days").EnumerateArray()), "SpamComplaint"));
        Assert.Equal(0, N(await t.ServerApi.GetAsync("/stats/outbound/spam?messagestream=second").OkJson(), "SpamComplaint"));

        var tracked = await t.ServerApi.GetAsync("/stats/outbound/tracked?tag=welcome").OkJson();
        Assert.Equal(5, N(tracked, "Tracked"));
    }

    [Fact]
    public async Task OpensAndClicksComeFromTheCountersTheTrackingCodeAdds()
    {
        var t = await KnownEventsAsync();
        var opens = await t.ServerApi.GetAsync("/stats/outbound/opens").OkJson();
        Assert.Equal(3, N(opens, "Opens"));
        Assert.Equal(2, N(opens, "Unique"));
        var days = opens.GetProperty("Days").EnumerateArray().ToList();
        Assert.Equal([2L, 1L], days.Select(d => N(d, "Opens")));
        Assert.Equal([1L, 1L], days.Select(d => N(d, "Unique")));

        var platforms = await t.ServerApi.GetAsync("/stats/outbound/opens/platforms").OkJson();
        Assert.Equal(1, N(platforms, "Desktop"));
        Assert.Equal(1, N(platforms, "Mobile"));
        Assert.False(platforms.TryGetProperty("WebMail", out _));
        var clients = await t.ServerApi.GetAsync("/stats/outbound/opens/emailclients").OkJson();
        Assert.Equal(1, N(clients, "Apple Mail"));
        Assert.Equal(1, N(clients, "Gmail"));
        var readTimes = await t.ServerApi.GetAsync("/stats/outbound/opens/readtimes").OkJson();
        Assert.Equal(1, N(readTimes, "20s+"));

        var clicks = await t.ServerApi.GetAsync("/stats/outbound/clicks").OkJson();
        Assert.Equal(1, N(clicks, "Clicks"));
        Assert.Equal(1, N(clicks, "Unique"));
        Assert.Equal(1, N(await t.ServerApi.GetAsync("/stats/outbound/clicks/browserfamilies").OkJson(), "Chrome"));
        Assert.Equal(1, N(await t.ServerApi.GetAsync("/stats/outbound/clicks/platforms").OkJson(), "Desktop"));
        var location = await t.ServerApi.GetAsync("/stats/outbound/clicks/location").OkJson();
        Assert.Equal(1, N(location, "HTML"));
        Assert.False(location.TryGetProperty("Text", out _));
        Assert.Equal(0, N(await t.ServerApi.GetAsync("/stats/outbound/opens?tag=news").OkJson(), "Opens"));
    }

    [Fact]
    public async Task ProvidersSplitTheSameCountsByRecipientMailboxProvider()
    {
        var t = await KnownEventsAsync();
        var gmail = await t.ServerApi.GetAsync("/stats/outbound?mailboxprovider=gmail").OkJson();
        Assert.Equal(2, N(gmail, "Sent"));
        Assert.Equal(1, N(gmail, "UniqueOpens"));
        Assert.Equal(0, N(gmail, "Bounced"));
        var providers = (await t.ServerApi.GetAsync("/stats/outbound/providers").OkJson()).GetProperty("Providers").EnumerateArray().ToList();
        Assert.Equal(["Other", "Gmail"], providers.Select(p => p.GetProperty("Provider").GetString()));
        Assert.Equal(5, N(providers[0], "Sent"));
        Assert.Equal(2, N(providers[0], "Bounced"));
        Assert.Equal(3, N(providers[0], "Delivered"));
        Assert.Equal(2, N(providers[1], "Delivered"));
        await t.ServerApi.GetAsync("/stats/outbound?mailboxprovider=aol").Error(422, 1501);
    }

    [Fact]
    public async Task BadParametersAndOtherTenantsAreRefusedOrSeparate()
    {
        var t = await KnownEventsAsync();
        await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=yesterday").Error(422, 900);
        await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2026-12-02&todate=2026-12-01").Error(422, 1502);
        // 1500: more than a year before today (the test clock's day is 2026-11-30, Eastern, after the known events); a
        // year ago exactly is fine.
        await t.ServerApi.GetAsync("/stats/outbound/opens?fromdate=2025-11-29").Error(422, 1500);
        await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2025-11-29&todate=2026-11-30").Error(422, 1500);
        Assert.Equal(7, N(await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2025-11-30").OkJson(), "Sent"));
        await t.ServerApi.GetAsync("/stats/outbound/sends?fromdate=2024-12-02&todate=2024-12-01").Error(422, 1502); // both wrong: 1502 first
        await t.ServerApi.GetAsync("/stats/outbound?messagestream=nope").Error(422, 1226);
        var other = await Host.CreateTenantAsync();
        var o = await other.ServerApi.GetAsync("/stats/outbound").OkJson();
        Assert.Equal(0, N(o, "Sent"));
        Assert.Empty((await other.ServerApi.GetAsync("/stats/outbound/sends").OkJson()).GetProperty("Days").EnumerateArray());
    }
}
