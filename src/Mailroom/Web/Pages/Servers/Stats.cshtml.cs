using System.Globalization;
using System.Text.Json;
using Mailroom.Core.Stats;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web.Pages.Servers;

/// <summary>One day of the stats page's table and charts.</summary>
public sealed record StatsDay(DateOnly Date, long Sent, long Bounced, long SpamComplaints, long Opens, long UniqueOpens, long Clicks, long UniqueClicks);

/// <summary>
/// A server's outbound stats for a range of days (the Stats API's calendar: Eastern days, inclusive), all streams or one,
/// all tags or one, read through <see cref="StatsService"/> (the counters the Stats API answers from, so the page and
/// the API always agree): the overview's totals, a table per day, and the same figures drawn by <c>wwwroot/stats.js</c>.
/// </summary>
public sealed class StatsModel(StatsService stats, TimeProvider clock) : ServerPageModel
{
    /// <summary>At most a year a page: the table has a row a day.</summary>
    public const int MaxDays = 366;
    [BindProperty(SupportsGet = true)] public string? Stream { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tag { get; set; }
    [BindProperty(SupportsGet = true)] public string? FromDate { get; set; }
    [BindProperty(SupportsGet = true)] public string? ToDate { get; set; }
    public List<string> StreamIds { get; private set; } = [];
    public Dictionary<string, object> Overview { get; private set; } = [];
    public List<StatsDay> Days { get; private set; } = [];
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadServerAsync())
            return NotFoundPage();
        var ct = HttpContext.RequestAborted;
        StreamIds = await StreamPicker.SendingStreamIdsAsync(Db, Id, ct);
        Stream = Stream is { } s && StreamIds.Contains(s) ? s : null;
        Tag = string.IsNullOrWhiteSpace(Tag) ? null : Tag.Trim();
        var today = StatsCalendar.Today(clock);
        var to = Day(ToDate) ?? today;
        var from = Day(FromDate) ?? to.AddDays(-29);
        ToDate = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        FromDate = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (Error is not null)
            return Page();
        if (from > to)
        {
            Error = "The 'From' date must not be later than the 'To' date.";
            return Page();
        }
        if (to.DayNumber - from.DayNumber + 1 > MaxDays)
        {
            Error = $"Choose at most {MaxDays} days.";
            return Page();
        }
        var q = new StatsQuery(from, to, Tag, Stream);
        try
        {
            Overview = await stats.OverviewAsync(Id, q, ct);
            var sends = PerDay(await stats.SendsAsync(Id, q, ct));
            var bounces = PerDay(await stats.BouncesAsync(Id, q, ct));
            var spam = PerDay(await stats.SpamAsync(Id, q, ct));
            var opens = PerDay(await stats.OpensAsync(Id, q, ct));
            var clicks = PerDay(await stats.ClicksAsync(Id, q, ct));
            for (var d = from; d <= to; d = d.AddDays(1))
            {
                long Get(Dictionary<DateOnly, Dictionary<string, object>> days, string key) =>
                    days.TryGetValue(d, out var day) && day.TryGetValue(key, out var v) ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;
                // Bounces as the overview counts them: every bounce type but SMTP API errors (refusals at the API).
                var bounced = bounces.TryGetValue(d, out var b)
                    ? b.Where(kv => kv.Key is not ("Date" or "SMTPApiError")).Sum(kv => Convert.ToInt64(kv.Value, CultureInfo.InvariantCulture))
                    : 0;
                Days.Add(new StatsDay(d, Get(sends, "Sent"), bounced, Get(spam, "SpamComplaint"), Get(opens, "Opens"), Get(opens, "Unique"),
                    Get(clicks, "Clicks"), Get(clicks, "Unique")));
            }
        }
        catch (MailroomException e)
        {
            Error = e.Message;
        }
        return Page();
    }

    public long Total(string key) => Overview.TryGetValue(key, out var v) ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0;

    public double Rate(string key) => Overview.TryGetValue(key, out var v) ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : 0;

    /// <summary>The charts' data, for the page's <c>application/json</c> block (the serializer escapes '&lt;', so it
    /// cannot close the script element).</summary>
    public string ChartJson => JsonSerializer.Serialize(new
    {
        days = Days.Select(d => d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
        sent = Days.Select(d => d.Sent),
        bounced = Days.Select(d => d.Bounced),
        spam = Days.Select(d => d.SpamComplaints),
        opens = Days.Select(d => d.Opens),
        clicks = Days.Select(d => d.Clicks),
    });

    private static Dictionary<DateOnly, Dictionary<string, object>> PerDay(Dictionary<string, object> result) =>
        ((IEnumerable<Dictionary<string, object>>)result["Days"])
        .ToDictionary(d => DateOnly.ParseExact((string)d["Date"], "yyyy-MM-dd", CultureInfo.InvariantCulture));

    private DateOnly? Day(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        if (DateOnly.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            return d;
        Error = $"'{value}' is not a date: use YYYY-MM-DD.";
        return null;
    }
}
