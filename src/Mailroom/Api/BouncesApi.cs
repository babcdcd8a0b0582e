using Mailroom.Core.Events;
using Mailroom.Core.Queue;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Bounce API, spec §6 (server token).</summary>
public static class BouncesApi
{
    public static void MapBouncesApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("").RequireServerToken();
        g.MapGet("/deliverystats", Stats);
        g.MapGet("/bounces", List);
        g.MapGet("/bounces/{bounceId}", Get);
        g.MapGet("/bounces/{bounceId}/dump", Dump);
        g.MapPut("/bounces/{bounceId}/activate", Activate);
    }

    private static async Task<IResult> Stats(HttpContext http, BounceService bounces) =>
        Ok(await bounces.StatsAsync(http.Server().ServerId, http.RequestAborted));

    private static async Task<IResult> List(HttpContext http, BounceService bounces)
    {
        var query = new BounceQuery(http.QueryPaging(1000, maxTotal: 10000),
            Type: http.QueryString("type"),
            Inactive: http.QueryBool("inactive", 1000),
            EmailFilter: http.QueryString("emailFilter"),
            Tag: http.QueryString("tag"),
            MessageId: http.QueryString("messageID"),
            FromDate: Date(http, "fromdate", endOfDay: false),
            ToDate: Date(http, "todate", endOfDay: true),
            Stream: http.QueryString("messagestream") ?? DefaultStreams.Outbound);
        return Ok(await bounces.ListAsync(http.Server().ServerId, query, http.RequestAborted));
    }

    private static async Task<IResult> Get(string bounceId, HttpContext http, BounceService bounces) =>
        Ok(await bounces.GetAsync(http.Server().ServerId, Id(bounceId), http.RequestAborted));

    private static async Task<IResult> Dump(string bounceId, HttpContext http, BounceService bounces) =>
        Ok(await bounces.DumpAsync(http.Server().ServerId, Id(bounceId), http.RequestAborted));

    private static async Task<IResult> Activate(string bounceId, HttpContext http, BounceService bounces) =>
        Ok(await bounces.ActivateAsync(http.Server().ServerId, Id(bounceId), http.RequestAborted));

    private static long Id(string value) =>
        long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : throw new MailroomException(PostmarkErrors.BounceNotFound, $"No bounce was found with ID '{value}'.");

    /// <summary>Dates are parsed as the Messages API parses them, but refused with the bounce family's code (1000).</summary>
    internal static DateTimeOffset? Date(HttpContext http, string name, bool endOfDay, int errorCode = 1000)
    {
        try
        {
            return MessageLog.ParseDate(http.QueryString(name), name, endOfDay);
        }
        catch (MailroomException e)
        {
            throw new MailroomException(errorCode, e.Message);
        }
    }
}
