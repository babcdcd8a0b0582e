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
        g.MapPost("/withTemplate", SendWithTemplate);
        g.MapPost("/batchWithTemplates", SendBatchWithTemplates);
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
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The batch is empty: send a JSON array of messages.");
        var results = await ingress.SendBatchAsync(http.Server(), requests, http.RequestAborted);
        return Ok(BatchAnswer(results));
    }

    // Failed items carry only ErrorCode and Message (spec §2.2).
    private static List<object> BatchAnswer(IReadOnlyList<SendResult> results) =>
        results.Select(r => r.ErrorCode == PostmarkErrors.None ? (object)r : new ErrorResponse(r.ErrorCode, r.Message)).ToList();

    private static async Task<IResult> SendWithTemplate(HttpContext http, EmailIngress ingress)
    {
        var request = await ReadBodyAsync(http, () => new TemplatedEmailRequest(), EmailIngress.MaxMessageBytes + 1024 * 1024);
        return Ok(await ingress.SendWithTemplateAsync(http.Server(), request, http.RequestAborted));
    }

    private static async Task<IResult> SendBatchWithTemplates(HttpContext http, EmailIngress ingress)
    {
        var body = await ReadBodyAsync(http, () => new TemplatedBatchRequest(), 50 * 1024 * 1024);
        if (body.Messages is not { Count: > 0 } messages)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "The batch is empty: send {\"Messages\": [...]} with at least one message.");
        return Ok(BatchAnswer(await ingress.SendBatchWithTemplatesAsync(http.Server(), messages, http.RequestAborted)));
    }
}
