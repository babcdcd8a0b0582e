using Mailroom.Core.Events;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Suppressions API, spec §7 (server token): per stream.</summary>
public static class SuppressionsApi
{
    public static void MapSuppressionsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/message-streams/{streamId}/suppressions").RequireServerToken();
        g.MapGet("/dump", Dump);
        g.MapPost("/", Create);
        g.MapPost("/delete", Delete);
    }

    private static async Task<IResult> Dump(string streamId, HttpContext http, SuppressionService suppressions) =>
        Ok(await suppressions.DumpAsync(http.Server().ServerId, streamId, http.QueryString("SuppressionReason"), http.QueryString("Origin"),
            BouncesApi.Date(http, "fromdate", endOfDay: false, 1400), BouncesApi.Date(http, "todate", endOfDay: true, 1400),
            http.QueryString("EmailAddress"), http.RequestAborted));

    private static async Task<IResult> Create(string streamId, HttpContext http, SuppressionService suppressions) =>
        Ok(await suppressions.CreateAsync(http.Server().ServerId, streamId, await Body(http), http.RequestAborted));

    private static async Task<IResult> Delete(string streamId, HttpContext http, SuppressionService suppressions) =>
        Ok(await suppressions.DeleteAsync(http.Server().ServerId, streamId, await Body(http), http.RequestAborted));

    private static async Task<SuppressionRequest?> Body(HttpContext http)
    {
        try
        {
            return await ReadBodyAsync<SuppressionRequest?>(http, () => null);
        }
        catch (MailroomException e) when (e.ErrorCode is PostmarkErrors.InvalidJson or PostmarkErrors.InvalidRequestFields)
        {
            throw new MailroomException(PostmarkErrors.InvalidSuppressionRequest, e.Message);
        }
    }
}
