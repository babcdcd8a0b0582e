using Mailroom.Core.Inbound;
using Mailroom.Core.Queue;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Inbound mail (server token): the Messages API's inbound half (spec §8) and inbound rule triggers (§12.1).</summary>
public static class InboundApi
{
    public static void MapInboundApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/messages/inbound").RequireServerToken();
        g.MapGet("/", Search);
        g.MapGet("/{messageId}/details", Details);
        g.MapPut("/{messageId}/retry", Retry);
        g.MapPut("/{messageId}/bypass", Bypass);
        var rules = app.MapGroup("/triggers/inboundrules").RequireServerToken();
        rules.MapGet("/", ListRules);
        rules.MapPost("/", CreateRule);
        rules.MapDelete("/{id}", DeleteRule);
    }

    private static async Task<IResult> Search(HttpContext http, InboundLog log) =>
        Ok(await log.SearchAsync(http.Server().ServerId, new InboundSearch(
            http.QueryPaging(700, maxTotal: 10000),
            http.QueryString("recipient"),
            http.QueryString("fromemail"),
            http.QueryString("tag"),
            http.QueryString("subject"),
            http.QueryString("mailboxhash"),
            http.QueryString("status"),
            MessageLog.ParseDate(http.QueryString("fromdate"), "fromdate", endOfDay: false),
            MessageLog.ParseDate(http.QueryString("todate"), "todate", endOfDay: true)), http.RequestAborted));

    private static async Task<IResult> Details(string messageId, HttpContext http, InboundLog log) =>
        Ok(await log.DetailsAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.RequestAborted));

    private static async Task<IResult> Retry(string messageId, HttpContext http, InboundLog log)
    {
        await log.RetryAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.RequestAborted);
        return Done($"Inbound message {messageId} will be posted again.");
    }

    private static async Task<IResult> Bypass(string messageId, HttpContext http, InboundLog log)
    {
        await log.BypassAsync(http.Server().ServerId, MessageLog.ParseId(messageId), http.RequestAborted);
        return Done($"Inbound message {messageId} bypassed the rules and will be posted.");
    }

    private static async Task<IResult> ListRules(HttpContext http, InboundRuleService rules) =>
        Ok(await rules.ListAsync(http.Server().ServerId, http.QueryPaging(800), http.RequestAborted));

    private static async Task<IResult> CreateRule(HttpContext http, InboundRuleService rules) =>
        Ok(await rules.CreateAsync(http.Server().ServerId, await ReadBodyAsync(http, () => new InboundRuleRequest(), 64 * 1024), http.RequestAborted));

    private static async Task<IResult> DeleteRule(string id, HttpContext http, InboundRuleService rules)
    {
        var ruleId = RouteId(id, _ => new MailroomException(PostmarkErrors.InboundRuleNotFound, $"Inbound rule {id} was not found."));
        await rules.DeleteAsync(http.Server().ServerId, ruleId, http.RequestAborted);
        return Done($"Rule {id} removed.");
    }
}
