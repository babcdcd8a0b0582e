using Mailroom.Core.Webhooks;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Webhooks API, spec §10 (server token), with Mailroom's extensions: attempts, secret rotation, event replay.</summary>
public static class WebhooksApi
{
    public static void MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/webhooks").RequireServerToken();
        g.MapGet("/", List);
        g.MapPost("/", Create);
        g.MapGet("/{id}", Get);
        g.MapPut("/{id}", Edit);
        g.MapDelete("/{id}", Delete);
        g.MapGet("/{id}/attempts", Attempts);
        g.MapPost("/{id}/secret/rotate", Rotate);
        app.MapGroup("/events").RequireServerToken().MapGet("/", Replay);
    }

    private static int Id(string id) => RouteId(id, _ => new MailroomException(PostmarkErrors.WebhookNotFound, $"No webhook was found with ID {id}."));

    private static async Task<IResult> List(HttpContext http, WebhookService hooks) =>
        Ok(await hooks.ListAsync(http.Server().ServerId, http.QueryString("MessageStream"), http.RequestAborted));

    private static async Task<IResult> Get(string id, HttpContext http, WebhookService hooks) =>
        Ok(await hooks.GetAsync(http.Server().ServerId, Id(id), http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, WebhookService hooks) =>
        Ok(await hooks.CreateAsync(http.Server().ServerId, await Body(http), http.RequestAborted));

    private static async Task<IResult> Edit(string id, HttpContext http, WebhookService hooks)
    {
        var webhookId = Id(id);
        return Ok(await hooks.EditAsync(http.Server().ServerId, webhookId, await Body(http), http.RequestAborted));
    }

    private static async Task<IResult> Delete(string id, HttpContext http, WebhookService hooks)
    {
        await hooks.DeleteAsync(http.Server().ServerId, Id(id), http.RequestAborted);
        return Done($"Webhook {id} removed.");
    }

    private static async Task<IResult> Rotate(string id, HttpContext http, WebhookService hooks) =>
        Ok(await hooks.RotateSecretAsync(http.Server().ServerId, Id(id), http.RequestAborted));

    private static async Task<IResult> Attempts(string id, HttpContext http, WebhookService hooks) =>
        Ok(await hooks.AttemptsAsync(http.Server().ServerId, Id(id), http.QueryInt("count", 1361) ?? 100, http.RequestAborted));

    private static async Task<IResult> Replay(HttpContext http, WebhookEventReplay replay) =>
        Ok(await replay.PageAsync(http.Server().ServerId, http.QueryString("after"), http.QueryInt("count", 1361) ?? 100,
            http.QueryString("MessageStream"), http.QueryString("RecordType"), http.RequestAborted));

    private static async Task<WebhookRequest?> Body(HttpContext http)
    {
        try
        {
            return await ReadBodyAsync<WebhookRequest?>(http, () => null);
        }
        catch (MailroomException e) when (e.ErrorCode is PostmarkErrors.InvalidJson or PostmarkErrors.InvalidRequestFields)
        {
            throw new MailroomException(PostmarkErrors.InvalidWebhookField, e.Message);
        }
    }
}
