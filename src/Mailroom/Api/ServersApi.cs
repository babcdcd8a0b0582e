using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Servers API, spec §3: account-token routes for the account's servers, server-token routes for the
/// token's own server.</summary>
public static class ServersApi
{
    public static void MapServersApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/servers").RequireAccountToken();
        account.MapGet("/", List);
        account.MapPost("/", Create);
        // {serverId} without an :int constraint: see RouteId.
        account.MapGet("/{serverId}", Get);
        account.MapPut("/{serverId}", Edit);
        account.MapDelete("/{serverId}", Delete);

        var server = app.MapGroup("/server").RequireServerToken();
        server.MapGet("/", GetOwn);
        server.MapPut("/", EditOwn);
    }

    private static async Task<IResult> List(HttpContext http, ServerService servers) =>
        Ok(await servers.ListAsync(http.AccountId(), http.QueryPaging(600), http.QueryString("name"), http.RequestAborted));

    private static async Task<IResult> Get(string serverId, HttpContext http, ServerService servers) =>
        Ok(await servers.GetAsync(http.AccountId(), Id(serverId), http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, ServerService servers) =>
        Ok(await servers.CreateAsync(http.AccountId(), await ReadBodyAsync(http, () => new ServerRequest()), http.RequestAborted));

    private static async Task<IResult> Edit(string serverId, HttpContext http, ServerService servers)
    {
        var id = Id(serverId);
        return Ok(await servers.EditAsync(http.AccountId(), id, await ReadBodyAsync(http, () => new ServerRequest()), http.RequestAborted));
    }

    private static async Task<IResult> Delete(string serverId, HttpContext http, ServerService servers)
    {
        var id = Id(serverId);
        await servers.DeleteAsync(http.AccountId(), id, http.RequestAborted);
        return Done($"Server {id} removed.");
    }

    /// <summary>The path's server ID; one that is no int names no server (601, as <see cref="ServerService"/> answers).</summary>
    private static int Id(string serverId) => RouteId(serverId, v => MailroomException.NotFound(PostmarkErrors.ServerNotFound, $"Server '{v}' was not found."));

    private static async Task<IResult> GetOwn(HttpContext http, ServerService servers)
    {
        var s = http.Server();
        return Ok(await servers.GetAsync(s.AccountId, s.ServerId, http.RequestAborted));
    }

    private static async Task<IResult> EditOwn(HttpContext http, ServerService servers)
    {
        var s = http.Server();
        return Ok(await servers.EditAsync(s.AccountId, s.ServerId, await ReadBodyAsync(http, () => new ServerRequest()), http.RequestAborted));
    }
}
