using Mailroom.Api;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Mailroom.Operations;

/// <summary>Which token an endpoint takes; endpoint metadata put there by the token filters, read by the OpenAPI document.</summary>
public sealed record TokenRequirement(string Header)
{
    public string SchemeName => Header == ApiConventions.AccountTokenHeader ? "AccountToken" : "ServerToken";
}

/// <summary>
/// The API reference: an OpenAPI document made from the mapped endpoints (<c>/openapi/v1.json</c>) and Scalar's page
/// (<c>/docs</c>), served from the package's own assets (no CDN, no fonts or telemetry from outside, no cloud buttons).
/// Every operation gets Postmark's error body (<c>{ErrorCode, Message}</c>, HTTP 422) and the token-protected ones
/// their header as a security scheme and a 401.
/// </summary>
public static class ApiReference
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string PagePath = "/docs";

    public static IServiceCollection AddMailroomApiReference(this IServiceCollection services)
    {
        // The document's schemas follow these options: Postmark's names are the declared PascalCase ones
        // (the handlers write with ApiConventions.Json, which has no naming policy either).
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = null);
        return services.AddOpenApi("v1", o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Mailroom API",
                    Version = "v1",
                    Description = "Postmark-compatible HTTP API: field names, tokens and error codes as Postmark's. "
                        + "Success is always HTTP 200; failures carry {ErrorCode, Message}.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                foreach (var (name, header) in new[] { ("AccountToken", ApiConventions.AccountTokenHeader), ("ServerToken", ApiConventions.ServerTokenHeader) })
                    document.Components.SecuritySchemes[name] = new OpenApiSecurityScheme
                    {
                        Type = SecuritySchemeType.ApiKey,
                        In = ParameterLocation.Header,
                        Name = header,
                        Description = name == "AccountToken" ? "The account API token." : "A server API token.",
                    };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer(async (operation, context, ct) =>
            {
                var error = await context.GetOrCreateSchemaAsync(typeof(ErrorResponse), null, ct);
                operation.Responses ??= new OpenApiResponses();
                if (!operation.Responses.ContainsKey("200"))
                    operation.Responses["200"] = new OpenApiResponse { Description = "Success" };
                operation.Responses["422"] = ErrorResponse("The request was refused: ErrorCode says why (Postmark's codes).", error);
                var token = context.Description.ActionDescriptor.EndpointMetadata.OfType<TokenRequirement>().LastOrDefault();
                if (token is not null)
                {
                    operation.Responses["401"] = ErrorResponse($"No valid {token.Header} header (ErrorCode 10).", error);
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement
                    {
                        [new OpenApiSecuritySchemeReference(token.SchemeName, context.Document)] = [],
                    });
                }
            });
        });
    }

    private static OpenApiResponse ErrorResponse(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
    };

    public static void MapMailroomApiReference(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        app.MapScalarApiReference(PagePath, o => o
            .WithTitle("Mailroom API")
            .WithOpenApiRoutePattern(DocumentPath)
            .DisableDefaultFonts()
            .DisableTelemetry()
            .DisableAgent()
            .DisableMcp()
            .HideClientButton()
            .HideDeveloperTools());
    }
}
