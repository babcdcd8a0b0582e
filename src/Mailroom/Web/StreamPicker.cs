using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>
/// The stream picker of the server pages and the customer view (activity, bounces, suppressions, stats): the server's
/// sending streams, oldest first, and which of them the page shows.
/// </summary>
public static class StreamPicker
{
    /// <summary>The IDs of the server's sending (not inbound) streams, oldest first.</summary>
    public static Task<List<string>> SendingStreamIdsAsync(MailroomDb db, int serverId, CancellationToken ct) =>
        db.MessageStreams.AsNoTracking().Where(s => s.ServerId == serverId && s.Type != MessageStreamType.Inbound)
            .OrderBy(s => s.Id).Select(s => s.StreamId).ToListAsync(ct);

    /// <summary>The stream asked for when it is one of <paramref name="ids"/>, else the first (the default stream on a
    /// server that somehow has none).</summary>
    public static string Choose(string? asked, List<string> ids) =>
        asked is { } s && ids.Contains(s) ? s : ids.FirstOrDefault() ?? DefaultStreams.Outbound;
}
