using Mailroom.Contracts;
using Mailroom.Core;
using Mailroom.Core.Ingress;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Email API, spec §2 (server token): single and batch sends.</summary>
public static class EmailApi
{
    public static void MapEmailApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/email").RequireServerToken();
        g.MapPost("/", Send).Accepts<EmailRequest>("application/json").Produces<SendResult>();
        g.MapPost("/batch", SendBatch).Accepts<List<EmailRequest>>("application/json").Produces<List<SendResult>>();
    }

    private static async Task<IResult> Send(HttpContext http, EmailIngress ingress)
    {
        var request = await ReadBodyAsync(http, () => new EmailRequest(), EmailIngress.MaxMessageBytes + 1024 * 1024);
        return Ok(await ingress.SendAsync(http.Server(), request, http.RequestAborted));
    }

    private static async Task<IResult> SendBatch(HttpContext http, EmailIngress ingress)
    {
        var requests = await ReadBodyAsync<List<EmailRequest?>>(http, () => [], 50 * 1024 * 1024);
        if (requests.Count == 0)
            throw new MailroomException(300, "The batch is empty: send a JSON array of messages.");
        var results = await ingress.SendBatchAsync(http.Server(), requests, http.RequestAborted);
        // Failed items carry only ErrorCode and Message (spec §2.2).
        return Ok(results.Select(r => r.ErrorCode == 0
            ? (object)r
            : new ErrorResponse(r.ErrorCode, r.Message)).ToList());
    }
}
