using Microsoft.AspNetCore.Routing;

namespace Mailroom.Tests.Operations;

public sealed class ApiReferenceTests
{
    private static string Normalize(string pattern)
    {
        // Route constraints ({id:int}) are not part of an OpenAPI path; a trailing slash is the same operation.
        var path = System.Text.RegularExpressions.Regex.Replace(pattern, @"\{([^}:?]+)[^}]*\}", "{$1}");
        path = "/" + path.Trim('/');
        return path;
    }

    [Fact]
    public async Task EveryEndpointIsInTheOpenApiDocument()
    {
        await using var host = await MailroomHost.StartAsync();
        var routes = host.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription != true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => $"{m.ToLowerInvariant()} {Normalize(e.RoutePattern.RawText!)}"))
            .Where(r => !r.EndsWith(" /openapi/{documentName}.json") && !r.Contains(" /docs", StringComparison.Ordinal))
            .ToHashSet();
        Assert.True(routes.Count > 40, $"only {routes.Count} routes found");
        Assert.Contains("post /email", routes);

        using var doc = JsonDocument.Parse(await host.Client().GetStringAsync("/openapi/v1.json"));
        var documented = new HashSet<string>();
        foreach (var path in doc.RootElement.GetProperty("paths").EnumerateObject())
            foreach (var op in path.Value.EnumerateObject())
                documented.Add($"{op.Name} {Normalize(path.Name)}");

        var missing = routes.Except(documented).Order().ToList();
        Assert.True(missing.Count == 0, "Endpoints missing from /openapi/v1.json: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task OperationsCarryPostmarkErrorsAndTokenSchemes()
    {
        await using var host = await MailroomHost.StartAsync();
        using var doc = JsonDocument.Parse(await host.Client().GetStringAsync("/openapi/v1.json"));
        var root = doc.RootElement;
        var schemes = root.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-Postmark-Server-Token", schemes.GetProperty("ServerToken").GetProperty("name").GetString());
        Assert.Equal("X-Postmark-Account-Token", schemes.GetProperty("AccountToken").GetProperty("name").GetString());

        var send = root.GetProperty("paths").EnumerateObject().First(p => p.Name.TrimEnd('/') == "/email").Value.GetProperty("post");
        Assert.True(send.GetProperty("responses").TryGetProperty("422", out _));
        Assert.True(send.GetProperty("responses").TryGetProperty("401", out _));
        Assert.Equal("ServerToken", send.GetProperty("security")[0].EnumerateObject().Single().Name);
        // Postmark's field names, as declared (PascalCase).
        var body = JsonSerializer.Serialize(send.GetProperty("requestBody"));
        Assert.Contains("EmailRequest", body);
        var schemas = root.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("EmailRequest").GetProperty("properties").TryGetProperty("HtmlBody", out _));
        var error = JsonSerializer.Serialize(send.GetProperty("responses").GetProperty("422"));
        Assert.Contains("\"ErrorCode\"", error);
        Assert.Contains("\"Message\"", error);

        var health = root.GetProperty("paths").GetProperty("/health").GetProperty("get");
        Assert.False(health.GetProperty("responses").TryGetProperty("401", out _));
    }

    [Fact]
    public async Task ReferencePageIsServedWithoutACdn()
    {
        await using var host = await MailroomHost.StartAsync();
        var client = host.Client();
        var page = await client.GetAsync("/docs/");
        if ((int)page.StatusCode is >= 300 and < 400)
            page = await client.GetAsync(page.Headers.Location!);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        // Scalar's loader resolves the source against the site's root: /openapi/v1.json.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html);
        Assert.Contains("\"hideClientButton\":true", html);
        Assert.DoesNotContain("cdn.jsdelivr.net", html);
        var scripts = System.Text.RegularExpressions.Regex.Matches(html, "<script[^>]*src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var src in scripts)
        {
            Assert.DoesNotContain("://", src);
            var script = await client.GetAsync(new Uri(new Uri("http://localhost/docs/"), src));
            Assert.Equal(System.Net.HttpStatusCode.OK, script.StatusCode);
        }
    }
}
