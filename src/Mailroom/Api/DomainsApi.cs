using Mailroom.Core.Dmarc;
using Mailroom.Core.Identities;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Domains API, spec §5 (account token). Routes match case-insensitively, so the JS client's
/// <c>/verifyDKIM</c>, <c>/verifySPF</c> and <c>/rotateDKIM</c> reach the same handlers.</summary>
public static class DomainsApi
{
    public static void MapDomainsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/domains").RequireAccountToken();
        g.MapGet("/", List);
        g.MapPost("/", Create);
        g.MapGet("/{id:int}", Get);
        g.MapPut("/{id:int}", Edit);
        g.MapDelete("/{id:int}", Delete);
        g.MapPut("/{id:int}/verifyDkim", VerifyDkim);
        g.MapPut("/{id:int}/verifyReturnPath", VerifyReturnPath);
        g.MapPost("/{id:int}/verifySpf", VerifySpf);
        g.MapPost("/{id:int}/rotateDkim", RotateDkim);
        // Mailroom extension: DMARC monitoring of a verified domain from the account's side (issue 17), answered in the
        // DMARC API's snake_case shape (DmarcAccountRecord).
        g.MapGet("/{id:int}/dmarc", async (int id, HttpContext http, DmarcService dmarc) =>
            Ok(await dmarc.GetForDomainAsync(http.AccountId(), id, http.RequestAborted)));
        g.MapPost("/{id:int}/dmarc", async (int id, HttpContext http, DmarcService dmarc) =>
        {
            var body = await ReadBodyAsync(http, () => new DmarcPatchRecordRequest(null), maxBytes: 64 * 1024);
            return Ok(await dmarc.EnableForDomainAsync(http.AccountId(), id, body.Email, http.RequestAborted));
        });
        g.MapDelete("/{id:int}/dmarc", async (int id, HttpContext http, DmarcService dmarc) =>
            Done($"DMARC monitoring of {await dmarc.DisableForDomainAsync(http.AccountId(), id, http.RequestAborted)} turned off."));
    }

    private static async Task<IResult> List(HttpContext http, DomainService domains) =>
        Ok(await domains.ListAsync(http.AccountId(), http.QueryPaging(511), http.RequestAborted));

    private static async Task<IResult> Get(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.GetAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, DomainService domains) =>
        Ok(await domains.CreateAsync(http.AccountId(), await ReadBodyAsync(http, () => new DomainRequest()), http.RequestAborted));

    private static async Task<IResult> Edit(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.EditAsync(http.AccountId(), id, await ReadBodyAsync(http, () => new DomainRequest()), http.RequestAborted));

    private static async Task<IResult> Delete(int id, HttpContext http, DomainService domains)
    {
        var name = await domains.DeleteAsync(http.AccountId(), id, http.RequestAborted);
        return Done($"Domain {name} removed.");
    }

    private static async Task<IResult> VerifyDkim(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.VerifyDkimAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> VerifyReturnPath(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.VerifyReturnPathAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> VerifySpf(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.VerifySpfAsync(http.AccountId(), id, http.RequestAborted));

    private static async Task<IResult> RotateDkim(int id, HttpContext http, DomainService domains) =>
        Ok(await domains.RotateDkimAsync(http.AccountId(), id, http.RequestAborted));
}
