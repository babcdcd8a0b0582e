using Mailroom.Core.Templates;
using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Templates API, spec §11 (server token; push takes the account token), plus Mailroom's versions.</summary>
public static class TemplatesApi
{
    public static void MapTemplatesApi(this IEndpointRouteBuilder app)
    {
        // Push first and in its own group: it takes the account token, and "push" must not be read as an alias.
        var account = app.MapGroup("/templates/push").RequireAccountToken();
        account.MapPut("/", Push);

        var g = app.MapGroup("/templates").RequireServerToken();
        g.MapGet("/", List);
        g.MapPost("/", Create);
        g.MapPost("/validate", Validate);
        g.MapGet("/{idOrAlias}", Get);
        g.MapPut("/{idOrAlias}", Edit);
        g.MapDelete("/{idOrAlias}", Delete);
        g.MapGet("/{idOrAlias}/versions", Versions);
        g.MapPost("/{idOrAlias}/versions/{version}/restore", Restore);
    }

    private static async Task<IResult> List(HttpContext http, TemplateService templates) =>
        Ok(await templates.ListAsync(http.Server().ServerId, http.QueryInt("Count", 1100), http.QueryInt("Offset", 1100),
            http.QueryString("TemplateType"), http.QueryString("LayoutTemplate"), http.RequestAborted));

    private static async Task<IResult> Get(string idOrAlias, HttpContext http, TemplateService templates) =>
        Ok(await templates.GetAsync(http.Server().ServerId, idOrAlias, http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, TemplateService templates)
    {
        var body = await ReadBodyAsync(http, () => new TemplateRequest());
        return Ok(await templates.CreateAsync(http.Server().ServerId, body, http.RequestAborted));
    }

    private static async Task<IResult> Edit(string idOrAlias, HttpContext http, TemplateService templates)
    {
        var body = await ReadBodyAsync(http, () => new TemplateRequest());
        return Ok(await templates.EditAsync(http.Server().ServerId, idOrAlias, body, http.RequestAborted));
    }

    private static async Task<IResult> Delete(string idOrAlias, HttpContext http, TemplateService templates)
    {
        await templates.DeleteAsync(http.Server().ServerId, idOrAlias, http.RequestAborted);
        return Done($"Template {idOrAlias} removed.");
    }

    private static async Task<IResult> Validate(HttpContext http, TemplateRendering rendering)
    {
        var body = await ReadBodyAsync(http, () => new TemplateValidationRequest());
        return Ok(await rendering.ValidateAsync(http.Server().ServerId, body, http.RequestAborted));
    }

    private static async Task<IResult> Push(HttpContext http, TemplateService templates)
    {
        var body = await ReadBodyAsync(http, () => new TemplatePushRequest());
        return Ok(await templates.PushAsync(http.AccountId(), body, http.RequestAborted));
    }

    private static async Task<IResult> Versions(string idOrAlias, HttpContext http, TemplateService templates) =>
        Ok(await templates.VersionsAsync(http.Server().ServerId, idOrAlias, http.RequestAborted));

    private static async Task<IResult> Restore(string idOrAlias, string version, HttpContext http, TemplateService templates)
    {
        var n = RouteId(version, v => MailroomException.NotFound(PostmarkErrors.TemplateNotFound, $"Template '{idOrAlias}' has no version '{v}'."));
        return Ok(await templates.RestoreAsync(http.Server().ServerId, idOrAlias, n, http.RequestAborted));
    }
}
