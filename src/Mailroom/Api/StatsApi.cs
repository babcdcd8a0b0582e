using System.Globalization;
using Mailroom.Core.Stats;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>
/// Stats API, spec §9 (server token): <c>tag</c>, <c>fromdate</c>, <c>todate</c> (inclusive days, yyyy-MM-dd, Eastern as
/// Postmark counts them), <c>messagestream</c> (absent = all streams). Beyond Postmark: <c>mailboxprovider</c>
/// (Gmail, Microsoft, Yahoo, Apple, Other) narrows any of them to one recipient mailbox provider, and
/// <c>/stats/outbound/providers</c> gives the overview for each provider. Errors: 900 (not a date), 1500 (fromdate more
/// than a year ago), 1502 (fromdate after todate), 1226 (unknown stream); 1501 ("count out of range") cannot arise, as
/// no stats endpoint takes a count — Mailroom answers it for an unknown <c>mailboxprovider</c>.
/// </summary>
public static class StatsApi
{
    public static void MapStatsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/stats/outbound").RequireServerToken();
        g.MapGet("", (HttpContext h, StatsService s) => Run(h, s.OverviewAsync));
        g.MapGet("/sends", (HttpContext h, StatsService s) => Run(h, s.SendsAsync));
        g.MapGet("/bounces", (HttpContext h, StatsService s) => Run(h, s.BouncesAsync));
        g.MapGet("/spam", (HttpContext h, StatsService s) => Run(h, s.SpamAsync));
        g.MapGet("/tracked", (HttpContext h, StatsService s) => Run(h, s.TrackedAsync));
        g.MapGet("/opens", (HttpContext h, StatsService s) => Run(h, s.OpensAsync));
        g.MapGet("/opens/platforms", (HttpContext h, StatsService s) => Run(h, s.OpenPlatformsAsync));
        g.MapGet("/opens/emailclients", (HttpContext h, StatsService s) => Run(h, s.EmailClientsAsync));
        g.MapGet("/opens/readtimes", (HttpContext h, StatsService s) => Run(h, s.ReadTimesAsync));
        g.MapGet("/clicks", (HttpContext h, StatsService s) => Run(h, s.ClicksAsync));
        g.MapGet("/clicks/browserfamilies", (HttpContext h, StatsService s) => Run(h, s.BrowserFamiliesAsync));
        g.MapGet("/clicks/platforms", (HttpContext h, StatsService s) => Run(h, s.ClickPlatformsAsync));
        g.MapGet("/clicks/location", (HttpContext h, StatsService s) => Run(h, s.ClickLocationsAsync));
        g.MapGet("/providers", (HttpContext h, StatsService s) => Run(h, s.ProvidersAsync));
        // Beyond Postmark: first opens and first clicks per country, from the operator's GeoIP database (--geoip-database).
        g.MapGet("/opens/countries", (HttpContext h, StatsService s) => Run(h, s.OpenCountriesAsync));
        g.MapGet("/clicks/countries", (HttpContext h, StatsService s) => Run(h, s.ClickCountriesAsync));
    }

    private static async Task<IResult> Run(HttpContext http, Func<int, StatsQuery, CancellationToken, Task<Dictionary<string, object>>> read) =>
        Ok(await read(http.Server().ServerId, Query(http), http.RequestAborted));

    private static StatsQuery Query(HttpContext http)
    {
        MailboxProvider? provider = null;
        if (http.QueryString("mailboxprovider") is { } p)
            provider = MailboxProviders.TryParse(p, out var parsed)
                ? parsed
                : throw new MailroomException(PostmarkErrors.StatsParameterOutOfRange, $"Invalid 'mailboxprovider': '{p}' (Gmail, Microsoft, Yahoo, Apple or Other).");
        var from = Day(http, "fromdate");
        var to = Day(http, "todate");
        if (from is { } f && to is { } t && f > t)
            throw new MailroomException(PostmarkErrors.StatsFromDateAfterToDate, "The 'fromdate' must not be later than the 'todate'.");
        // Error 1500 (spec §1 error table): a fromdate more than a year before today (the stats calendar's day).
        if (from is { } first && first < StatsCalendar.Today(http.RequestServices.GetRequiredService<TimeProvider>()).AddYears(-1))
            throw new MailroomException(PostmarkErrors.StatsFromDateTooOld, $"The 'fromdate' cannot be more than a year ago: '{first:yyyy-MM-dd}'.");
        return new StatsQuery(from, to, http.QueryString("tag"), http.QueryString("messagestream"), provider);
    }

    /// <summary>A day, yyyy-MM-dd (a full timestamp is accepted and its date in the stats calendar used).</summary>
    private static DateOnly? Day(HttpContext http, string name)
    {
        var v = http.QueryString(name);
        if (v is null)
            return null;
        if (DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            return d;
        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            return StatsCalendar.DateOf(t);
        throw new MailroomException(PostmarkErrors.InvalidStatsDate, $"The '{name}' parameter is not a date: '{v}'.");
    }
}
