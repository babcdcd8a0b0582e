using Mailroom.Core.Queue;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Messages API, spec §8 (server token): outbound search, details with events, raw dump.</summary>
public static class MessagesApi
{
    public static void MapMessagesApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/messages/outbound").RequireServerToken();
        g.MapGet("/", Search);
        g.MapGet("/{messageId}/details", Details);
        g.MapGet("/{messageId}/dump", Dump);
    }

    private static async Task<IResult> Search(HttpContext http, MessageLog log)
    {
        var q = http.Request.Query;
        var metadata = q.Keys.Where(k => k.StartsWith("metadata_", StringComparison.OrdinalIgnoreCase) && k.Length > 9)
            .Select(k => (Key: k[9..], Value: q[k].ToString())).FirstOrDefault(kv => kv.Value.Length > 0);
        var filter = new MessageSearch(
            http.QueryPaging(700, maxTotal: 10000),
            http.QueryString("recipient"),
            http.QueryString("fromemail"),
            http.QueryString("tag"),
            http.QueryString("status"),
            MessageLog.ParseDate(http.QueryString("fromdate"), "fromdate", endOfDay: false),
            MessageLog.ParseDate(http.QueryString("todate"), "todate", endOfDay: true),
            http.QueryString("subject"),
            http.QueryString("messagestream") ?? DefaultStreams.Outbound,
            metadata.Key is null ? null : metadata) { CountLimit = MessageLog.ApiCountLimit };
        return Ok(await log.SearchAsync(http.Server().ServerId, filter, http.RequestAborted));
    }

    private static async Task<IResult> Details(string messageId, HttpContext http, MessageLog log) =>
        Ok(await log.DetailsAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.RequestAborted));

    private static async Task<IResult> Dump(string messageId, HttpContext http, MessageLog log) =>
        Ok(await log.DumpAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.RequestAborted));
}
