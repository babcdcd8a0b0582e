using Mailroom.Contracts;
using Mailroom.Core.Accounts;
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
        account.MapGet("/{serverId:int}", Get);
        account.MapPut("/{serverId:int}", Edit);
        account.MapDelete("/{serverId:int}", Delete);

        var server = app.MapGroup("/server").RequireServerToken();
        server.MapGet("/", GetOwn);
        server.MapPut("/", EditOwn);
    }

    private static async Task<IResult> List(HttpContext http, ServerService servers) =>
        Ok(await servers.ListAsync(http.AccountId(), http.QueryPaging(600), http.QueryString("name"), http.RequestAborted));

    private static async Task<IResult> Get(int serverId, HttpContext http, ServerService servers) =>
        Ok(await servers.GetAsync(http.AccountId(), serverId, http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, ServerService servers) =>
        Ok(await servers.CreateAsync(http.AccountId(), await ReadBodyAsync(http, () => new ServerRequest()), http.RequestAborted));

    private static async Task<IResult> Edit(int serverId, HttpContext http, ServerService servers) =>
        Ok(await servers.EditAsync(http.AccountId(), serverId, await ReadBodyAsync(http, () => new ServerRequest()), http.RequestAborted));

    private static async Task<IResult> Delete(int serverId, HttpContext http, ServerService servers)
    {
        await servers.DeleteAsync(http.AccountId(), serverId, http.RequestAborted);
        return Done($"Server {serverId} removed.");
    }

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
