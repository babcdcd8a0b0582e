using static Mailroom.Api.ApiConventions;

namespace Mailroom.Api;

/// <summary>Message Streams API, spec §4 (server token).</summary>
public static class MessageStreamsApi
{
    public static void MapMessageStreamsApi(this IEndpointRouteBuilder app)
    {
        var g = app.MapGroup("/message-streams").RequireServerToken();
        g.MapGet("/", List);
        g.MapPost("/", Create);
        g.MapGet("/{streamId}", Get);
        g.MapPatch("/{streamId}", Edit);
        g.MapPost("/{streamId}/archive", Archive);
        g.MapPost("/{streamId}/unarchive", Unarchive);
        // Mailroom extension (not in Postmark): hold and release delivery of a stream.
        g.MapPost("/{streamId}/pause", Pause);
        g.MapPost("/{streamId}/resume", Resume);
    }

    private static async Task<IResult> Pause(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.PauseAsync(http.Server().ServerId, streamId,
            (await ReadBodyAsync(http, () => new PauseRequest(null))).Reason, http.RequestAborted));

    private static async Task<IResult> Resume(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.ResumeAsync(http.Server().ServerId, streamId, http.RequestAborted));

    private sealed record PauseRequest(string? Reason);

    private static async Task<IResult> List(HttpContext http, MessageStreamService streams) =>
        Ok(await streams.ListAsync(http.Server().ServerId, http.QueryString("MessageStreamType"),
            http.QueryBool("IncludeArchivedStreams", 1221) ?? false, http.RequestAborted));

    private static async Task<IResult> Get(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.GetAsync(http.Server().ServerId, streamId, http.RequestAborted));

    private static async Task<IResult> Create(HttpContext http, MessageStreamService streams) =>
        Ok(await streams.CreateAsync(http.Server().ServerId, await ReadBodyAsync(http, () => new MessageStreamRequest()), http.RequestAborted));

    private static async Task<IResult> Edit(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.EditAsync(http.Server().ServerId, streamId, await ReadBodyAsync(http, () => new MessageStreamRequest()), http.RequestAborted));

    private static async Task<IResult> Archive(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.ArchiveAsync(http.Server().ServerId, streamId, http.RequestAborted));

    private static async Task<IResult> Unarchive(string streamId, HttpContext http, MessageStreamService streams) =>
        Ok(await streams.UnarchiveAsync(http.Server().ServerId, streamId, http.RequestAborted));
}
