using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Mailroom.Api;

/// <summary>
/// Postmark's wire rules in one place (spec §1): PascalCase JSON as declared, case-insensitive input keys,
/// tokens in headers, errors as <c>{ErrorCode, Message}</c>, success always HTTP 200.
/// </summary>
public static class ApiConventions
{
    public const string AccountTokenHeader = "X-Postmark-Account-Token";
    public const string ServerTokenHeader = "X-Postmark-Server-Token";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = null,
        PropertyNameCaseInsensitive = true,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString,
        MaxDepth = 32,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IResult Ok<T>(T body) => Results.Json(body, Json, statusCode: 200);

    public static IResult Error(int errorCode, string message, int httpStatus = 422) =>
        Results.Json(new ErrorResponse(errorCode, message), Json, statusCode: httpStatus);

    public static IResult Done(string message) => Ok(new ErrorResponse(PostmarkErrors.None, message));

    /// <summary>
    /// Reads a JSON body. Absent, empty or <c>{}</c> bodies give <paramref name="empty"/> (the .NET client sends
    /// no body on actions). A body that is not JSON → 402; JSON of the wrong shape → 403; another content type → 415.
    /// </summary>
    public static async Task<T> ReadBodyAsync<T>(HttpContext http, Func<T> empty, int maxBytes = 10 * 1024 * 1024)
    {
        var req = http.Request;
        if (req.ContentLength is > 0 && req.ContentLength > maxBytes)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The request body is larger than {maxBytes / (1024 * 1024)} MB.", 413);
        var contentType = req.ContentType;
        if (!string.IsNullOrEmpty(contentType) && req.ContentLength is not 0 &&
            !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) &&
            !contentType.Contains("+json", StringComparison.OrdinalIgnoreCase))
            throw new MailroomException(PostmarkErrors.JsonRequired, "Please send the body as JSON with the header 'Content-Type: application/json'.", 415);

        // Sized from Content-Length (within the limit): a 2.5 MB batch otherwise grows the buffer through ~10 copies
        // on the large-object heap (each a copy, and large-object allocations drive gen2 collections).
        using var buffer = new MemoryStream(req.ContentLength is > 0 and var length ? (int)Math.Min(length, maxBytes) : 0);
        var read = new byte[81920];
        int n;
        while ((n = await req.Body.ReadAsync(read, http.RequestAborted)) > 0)
        {
            buffer.Write(read, 0, n);
            if (buffer.Length > maxBytes)
                throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The request body is larger than {maxBytes / (1024 * 1024)} MB.", 413);
        }
        var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        // A UTF-8 byte order mark, as .NET's Encoding.UTF8 writers put first: RFC 8259 §8.1 lets a parser ignore it,
        // and System.Text.Json reading bytes does not.
        if (body.Span.StartsWith(Utf8Bom))
            body = body[Utf8Bom.Length..];
        if (body.Length == 0 || IsBlank(body.Span))
            return empty();
        // One pass in the common case; only a body that fails is parsed again, to tell malformed JSON (402) from
        // well-formed JSON of the wrong shape (403).
        try
        {
            return JsonSerializer.Deserialize<T>(body.Span, Json) ?? empty();
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or FormatException)
        {
            try
            {
                using var _ = JsonDocument.Parse(body,
                    new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 32 });
            }
            catch (JsonException)
            {
                throw new MailroomException(PostmarkErrors.InvalidJson, "Received invalid JSON input.");
            }
            throw new MailroomException(PostmarkErrors.InvalidRequestFields, $"The request has a field of the wrong type or shape: {Describe(e)}");
        }
    }

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private static bool IsBlank(ReadOnlySpan<byte> body)
    {
        foreach (var b in body)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                return false;
        return true;
    }

    private static string Describe(Exception e) =>
        e is JsonException { Path: { Length: > 0 } path } ? $"'{path.TrimStart('$', '.')}'." : "the body does not match the expected object.";

    /// <summary>
    /// An ID from the path. Routes take it as a string and parse it here, so an ID that is not a number or does not
    /// fit an int (<c>/servers/99999999999</c>) gets the same answer as one that names nothing (<c>/servers/-1</c>):
    /// Postmark's not-found error of that resource, never a routing 404.
    /// </summary>
    public static int RouteId(string value, Func<string, MailroomException> notFound) =>
        int.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? id
            : throw notFound(value);

    // ---- Query strings (names case-insensitive; empty value = not given) ----

    public static string? QueryString(this HttpContext http, string name)
    {
        var v = http.Request.Query[name].ToString();
        return string.IsNullOrEmpty(v) ? null : v;
    }

    public static int? QueryInt(this HttpContext http, string name, int errorCode)
    {
        var v = http.QueryString(name);
        if (v is null)
            return null;
        return int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var i)
            ? i
            : throw new MailroomException(errorCode, $"The '{name}' parameter must be a whole number.");
    }

    public static bool? QueryBool(this HttpContext http, string name, int errorCode)
    {
        var v = http.QueryString(name);
        if (v is null)
            return null;
        return bool.TryParse(v, out var b) ? b : throw new MailroomException(errorCode, $"The '{name}' parameter must be true or false.");
    }

    public static Paging QueryPaging(this HttpContext http, int errorCode, int maxTotal = int.MaxValue) =>
        Paging.Validate(http.QueryInt("count", errorCode), http.QueryInt("offset", errorCode), errorCode, maxTotal);

    // ---- Tenancy resolved by the token filters ----

    public static int AccountId(this HttpContext http) => (int)http.Items[nameof(AccountId)]!;
    public static ServerIdentity Server(this HttpContext http) => (ServerIdentity)http.Items[nameof(Server)]!;

    /// <summary>Endpoints that take the account token (servers, senders, domains).</summary>
    public static RouteGroupBuilder RequireAccountToken(this RouteGroupBuilder group) =>
        group.RequireToken(AccountTokenHeader, ServerTokenHeader, nameof(AccountId), "the", "account API token", "a server token",
            async (accounts, token, ct) => await accounts.FindAccountByTokenAsync(token, ct));

    /// <summary>Endpoints that take a server token (email, streams, server, ...).</summary>
    public static RouteGroupBuilder RequireServerToken(this RouteGroupBuilder group) =>
        group.RequireToken(ServerTokenHeader, AccountTokenHeader, nameof(Server), "a", "server API token", "the account token",
            async (accounts, token, ct) => await accounts.FindServerByTokenAsync(token, ct));

    /// <summary>
    /// The token check of both kinds: the token in <paramref name="header"/>, found by <paramref name="find"/>, is put in
    /// <c>HttpContext.Items[item]</c>; missing (with a hint when the other kind was sent) or unknown, the request is refused
    /// with 401 and ErrorCode 10 before the endpoint runs.
    /// </summary>
    private static RouteGroupBuilder RequireToken(this RouteGroupBuilder group, string header, string otherHeader, string item,
        string article, string kind, string other, Func<AccountService, string, CancellationToken, Task<object?>> find) =>
        group.WithMetadata(new Mailroom.Operations.TokenRequirement(header)).AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var token = http.Request.Headers[header].ToString().Trim();
            if (token.Length == 0)
                return Error(PostmarkErrors.InvalidToken, http.Request.Headers.ContainsKey(otherHeader)
                    ? $"This endpoint needs {article} {kind} ({header}), not {other}."
                    : $"No {kind} was given: send it in the '{header}' header.", 401);
            var found = await find(http.RequestServices.GetRequiredService<AccountService>(), token, http.RequestAborted);
            if (found is null)
                return Error(PostmarkErrors.InvalidToken, $"The {kind} is not valid.", 401);
            http.Items[item] = found;
            return await next(ctx);
        });

    /// <summary>Turns every failure into Postmark's JSON error body; never a stack trace or an HTML page.</summary>
    public static void UsePostmarkErrors(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (MailroomException e) when (!http.Response.HasStarted)
            {
                await Write(http, e.HttpStatus, e.ErrorCode, e.Message);
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                var status = e.StatusCode == 413 ? 413 : 400;
                await Write(http, status, status == 413 ? 300 : 402, status == 413 ? "The request body is too large." : "The request could not be read.");
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nothing to answer.
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                var id = Guid.NewGuid().ToString("N")[..12];
                app.Logger.LogError(e, "Unexpected error {ErrorId} on {Method} {Path}", id, http.Request.Method, http.Request.Path);
                await Write(http, 500, PostmarkErrors.UnexpectedError, $"An unexpected error occurred (error id {id}).");
            }
        });
        app.UseStatusCodePages(async ctx =>
        {
            var http = ctx.HttpContext;
            if (http.Response.ContentType is not null)
                return;
            var (code, message) = http.Response.StatusCode switch
            {
                404 => (404, $"No such endpoint: {http.Request.Method} {http.Request.Path}."),
                405 => (405, $"Method {http.Request.Method} is not allowed on {http.Request.Path}."),
                415 => (PostmarkErrors.JsonRequired, "Please send the body as JSON with the header 'Content-Type: application/json'."),
                _ => (http.Response.StatusCode, "The request could not be handled."),
            };
            await http.Response.WriteAsJsonAsync(new ErrorResponse(code, message), Json);
        });
    }

    private static Task Write(HttpContext http, int status, int code, string message)
    {
        http.Response.Clear();
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new ErrorResponse(code, message), Json);
    }
}
