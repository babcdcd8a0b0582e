namespace Mailroom.Core.Stats;

/// <summary>
/// The days of the Stats API. Postmark counts by Eastern days (spec §9: <c>fromdate</c>/<c>todate</c> are inclusive
/// Eastern dates), so a counter's day is the event's date in America/New_York; where the system has no time zone
/// data the fixed offset −05:00 is used. Days are stored as yyyymmdd numbers.
/// </summary>
public static class StatsCalendar
{
    private static readonly TimeZoneInfo Zone = Find();

    private static TimeZoneInfo Find()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return TimeZoneInfo.CreateCustomTimeZone("Eastern", TimeSpan.FromHours(-5), "Eastern", "Eastern");
        }
    }

    public static DateOnly DateOf(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, Zone).DateTime);

    public static int DayOf(DateTimeOffset at) => Number(DateOf(at));

    public static int DayOfUnixMs(long at) => DayOf(DateTimeOffset.FromUnixTimeMilliseconds(at));

    public static int Number(DateOnly d) => d.Year * 10000 + d.Month * 100 + d.Day;

    public static DateOnly FromNumber(int day) => new(day / 10000, day / 100 % 100, day % 100);

    /// <summary>Today in the stats calendar.</summary>
    public static DateOnly Today(TimeProvider clock) => DateOf(clock.GetUtcNow());
}
