using Mailroom.Core.Dmarc;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>
/// Postmark's DMARC API (dmarc.postmarkapp.com/api) at its paths: <c>POST /records</c> creates a monitored domain and
/// answers its private token once; every <c>/records/my…</c> call names the domain by that token in
/// <c>X-Api-Token</c>. snake_case JSON, ISO-8601 UTC times; 204 on delete; 401 for a wrong token, 422 for invalid
/// input, 400 for a body that is not JSON, 404 for a report that is not the token's.
/// </summary>
public static class DmarcApi
{
    public const string TokenHeader = "X-Api-Token";

    public static void MapDmarcApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/records", async (HttpContext http, DmarcService dmarc) =>
            Ok(await dmarc.CreateAsync(await BodyAsync(http, () => new DmarcCreateRecordRequest(null, null)), http.RequestAborted)));

        app.MapGet("/records/my", async (HttpContext http, DmarcService dmarc) =>
            Ok(dmarc.Describe(await AuthAsync(http, dmarc))));

        app.MapPatch("/records/my", async (HttpContext http, DmarcService dmarc) =>
        {
            var d = await AuthAsync(http, dmarc);
            return Ok(await dmarc.PatchAsync(d, await BodyAsync(http, () => new DmarcPatchRecordRequest(null)), http.RequestAborted));
        });

        app.MapDelete("/records/my", async (HttpContext http, DmarcService dmarc) =>
        {
            await dmarc.DeleteAsync(await AuthAsync(http, dmarc), http.RequestAborted);
            return Results.NoContent();
        });

        app.MapGet("/records/my/dns", async (HttpContext http, DmarcService dmarc) =>
            Ok(dmarc.Dns(await AuthAsync(http, dmarc))));

        app.MapPost("/records/my/verify", async (HttpContext http, DmarcService dmarc) =>
            Ok(await dmarc.VerifyAsync(await AuthAsync(http, dmarc), http.RequestAborted)));

        app.MapGet("/records/my/reports", async (HttpContext http, DmarcService dmarc) =>
        {
            var d = await AuthAsync(http, dmarc);
            var q = http.Request.Query;
            return Ok(await dmarc.ListReportsAsync(d, q["from_date"], q["to_date"], Number(q["limit"], "limit"),
                Number(q["after"].ToString(), "after"), http.RequestAborted));
        });

        app.MapGet("/records/my/reports/{id}", async (string id, HttpContext http, DmarcService dmarc) =>
        {
            var d = await AuthAsync(http, dmarc);
            if (!long.TryParse(id, out var reportId)) throw new MailroomException(PostmarkErrors.DmarcNotFound, $"Report {id} was not found.", 404);
            // The docs offer the raw document or the JSON form; the Accept header chooses (JSON unless XML is asked for).
            var accept = http.Request.Headers.Accept.ToString();
            if (accept.Contains("xml", StringComparison.OrdinalIgnoreCase) && !accept.Contains("json", StringComparison.OrdinalIgnoreCase))
                return Results.Bytes(await dmarc.GetRawReportAsync(d, reportId, http.RequestAborted), "application/xml");
            return Ok(await dmarc.GetReportAsync(d, reportId, http.RequestAborted));
        });

        // Mailroom extension: who sends as the domain, by source IP (see DmarcSourcesReport).
        app.MapGet("/records/my/sources", async (HttpContext http, DmarcService dmarc, DmarcSourcesReport sources) =>
        {
            var d = await AuthAsync(http, dmarc);
            string? from = http.Request.Query["from_date"], to = http.Request.Query["to_date"];
            return Ok(await sources.BuildAsync(d, DmarcService.ParseDate(from, "from_date"), DmarcService.ParseDate(to, "to_date"),
                from, to, http.RequestAborted));
        });

        app.MapPost("/records/my/token/rotate", async (HttpContext http, DmarcService dmarc) =>
            Ok(await dmarc.RotateTokenAsync(await AuthAsync(http, dmarc), http.RequestAborted)));

        app.MapPost("/token/recover", async (HttpContext http, DmarcService dmarc) =>
            Ok(await dmarc.RecoverAsync(await BodyAsync(http, () => new DmarcRecoverRequest(null)), http.RequestAborted)));
    }

    private static Task<DmarcDomain> AuthAsync(HttpContext http, DmarcService dmarc) =>
        dmarc.AuthenticateAsync(http.Request.Headers[TokenHeader].ToString(), http.RequestAborted);

    /// <summary>Postmark's DMARC API answers 400 to a body that is not JSON, 422 to one of the wrong shape.</summary>
    private static async Task<T> BodyAsync<T>(HttpContext http, Func<T> empty)
    {
        try
        {
            return await ReadBodyAsync(http, empty, maxBytes: 64 * 1024);
        }
        catch (MailroomException e) when (e.ErrorCode == PostmarkErrors.InvalidJson)
        {
            throw new MailroomException(PostmarkErrors.DmarcBadRequest, e.Message, 400);
        }
    }

    private static long? Number(string? value, string name)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        return long.TryParse(value, out var n) ? n : throw new MailroomException(PostmarkErrors.DmarcInvalidRequest, $"'{name}' must be a whole number.");
    }

    private static int? Number(Microsoft.Extensions.Primitives.StringValues value, string name) =>
        Number(value.ToString(), name) is { } n ? (int)Math.Clamp(n, int.MinValue, int.MaxValue) : null;
}
