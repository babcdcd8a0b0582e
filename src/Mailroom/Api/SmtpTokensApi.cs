using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>
/// Per-stream SMTP tokens (server token): Mailroom's endpoints for Postmark's SMTP tokens, which Postmark manages
/// only in its web app (spec §12.2). <c>POST</c> answers the secret key once.
/// </summary>
public static class SmtpTokensApi
{
    public static void MapSmtpTokensApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/message-streams/{streamId}/smtp-tokens").RequireServerToken();
        g.MapPost("/", Create);
        g.MapGet("/", List);
        g.MapDelete("/{accessKey}", Delete);
    }

    private static async Task<IResult> Create(string streamId, HttpContext http, SmtpTokenService tokens) =>
        Ok(await tokens.CreateAsync(http.Server().ServerId, streamId, http.RequestAborted));

    private static async Task<IResult> List(string streamId, HttpContext http, SmtpTokenService tokens) =>
        Ok(await tokens.ListAsync(http.Server().ServerId, streamId, http.RequestAborted));

    private static async Task<IResult> Delete(string streamId, string accessKey, HttpContext http, SmtpTokenService tokens)
    {
        await tokens.DeleteAsync(http.Server().ServerId, streamId, accessKey, http.RequestAborted);
        return Done($"SMTP token {accessKey} deleted.");
    }
}
