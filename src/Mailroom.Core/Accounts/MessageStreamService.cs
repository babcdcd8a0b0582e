using System.Text.RegularExpressions;
using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Accounts;

/// <summary>Message streams of one server (spec §4). Every query is filtered by the server id.</summary>
public sealed partial class MessageStreamService(MailroomDb db, PlatformSettings platform, TimeProvider clock)
{
    /// <summary>IDs that name defaults or would be confused with API words.</summary>
    private static readonly HashSet<string> Reserved = ["all", "default", "inbound", "outbound", "broadcast", "broadcasts", "transactional", "suppressions"];

    [GeneratedRegex("^[a-z][a-z0-9_-]*$")]
    private static partial Regex StreamIdFormat();

    [GeneratedRegex("<[a-zA-Z/!][^>]*>")]
    private static partial Regex HtmlTag();

    public static IEnumerable<MessageStream> DefaultStreams(int serverId, DateTime now) =>
    [
        new() { ServerId = serverId, StreamId = Mailroom.Contracts.DefaultStreams.Outbound, Name = "Default Transactional Stream", Description = "", Type = MessageStreamType.Transactional, UnsubscribeHandling = UnsubscribeHandlingType.None, CreatedAt = now },
        new() { ServerId = serverId, StreamId = Mailroom.Contracts.DefaultStreams.Inbound, Name = "Default Inbound Stream", Description = "", Type = MessageStreamType.Inbound, UnsubscribeHandling = UnsubscribeHandlingType.None, CreatedAt = now },
        new() { ServerId = serverId, StreamId = Mailroom.Contracts.DefaultStreams.Broadcast, Name = "Default Broadcast Stream", Description = "", Type = MessageStreamType.Broadcasts, UnsubscribeHandling = UnsubscribeHandlingType.Postmark, CreatedAt = now },
    ];

    public async Task<MessageStreamList> ListAsync(int serverId, string? type, bool includeArchived, CancellationToken ct = default)
    {
        var q = db.MessageStreams.AsNoTracking().Where(s => s.ServerId == serverId);
        if (!string.IsNullOrEmpty(type) && !type.Equals("All", StringComparison.OrdinalIgnoreCase))
        {
            var t = ParseType(type, allowInbound: true);
            q = q.Where(s => s.Type == t);
        }
        if (!includeArchived)
            q = q.Where(s => s.ArchivedAt == null);
        var list = await q.OrderBy(s => s.Id).ToListAsync(ct);
        return new MessageStreamList(list.Select(ToResponse).ToList(), list.Count);
    }

    public async Task<MessageStreamResponse> GetAsync(int serverId, string streamId, CancellationToken ct = default) =>
        ToResponse(await LoadAsync(serverId, streamId, tracking: false, ct));

    public async Task<MessageStreamResponse> CreateAsync(int serverId, MessageStreamRequest r, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(r.ID))
            throw new MailroomException(PostmarkErrors.MessageStreamIdMissing, "The 'ID' field is required.");
        var id = r.ID.Trim();
        if (id.StartsWith("pm-", StringComparison.OrdinalIgnoreCase))
            throw new MailroomException(PostmarkErrors.MessageStreamIdReservedPrefix, "Stream 'ID' must not start with 'pm-'.");
        if (id.Length > 30 || !StreamIdFormat().IsMatch(id))
            throw new MailroomException(PostmarkErrors.InvalidMessageStreamId, "Stream 'ID' must start with a letter and hold only lowercase letters, digits, '-' and '_', at most 30 characters.");
        if (string.IsNullOrWhiteSpace(r.Name))
            throw new MailroomException(PostmarkErrors.MessageStreamNameMissing, "The 'Name' field is required.");
        if (string.IsNullOrWhiteSpace(r.MessageStreamType))
            throw new MailroomException(PostmarkErrors.InvalidMessageStreamType, "The 'MessageStreamType' field is required: 'Transactional' or 'Broadcasts'.");
        var type = ParseType(r.MessageStreamType, allowInbound: false);
        if (await db.MessageStreams.AnyAsync(s => s.ServerId == serverId && s.StreamId == id, ct))
            throw new MailroomException(PostmarkErrors.MessageStreamExists, $"A stream with ID '{id}' already exists on this server.");
        if (Reserved.Contains(id))
            throw new MailroomException(PostmarkErrors.MessageStreamIdReserved, $"The stream ID '{id}' is reserved.");
        if (await db.MessageStreams.CountAsync(s => s.ServerId == serverId, ct) >= platform.MaxStreamsPerServer)
            throw new MailroomException(PostmarkErrors.MessageStreamLimitReached, $"This server already has the most message streams allowed ({platform.MaxStreamsPerServer}).");
        var stream = new MessageStream
        {
            ServerId = serverId,
            StreamId = id,
            Name = "",
            Type = type,
            UnsubscribeHandling = type == MessageStreamType.Broadcasts ? UnsubscribeHandlingType.Postmark : UnsubscribeHandlingType.None,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        Apply(stream, r);
        db.MessageStreams.Add(stream);
        await db.SaveUniqueAsync(() => new MailroomException(PostmarkErrors.MessageStreamExists, $"A stream with ID '{id}' already exists on this server."), ct);
        return ToResponse(stream);
    }

    public async Task<MessageStreamResponse> EditAsync(int serverId, string streamId, MessageStreamRequest r, CancellationToken ct = default)
    {
        var stream = await LoadAsync(serverId, streamId, tracking: true, ct);
        if (r.ID is not null && r.ID != stream.StreamId)
            throw new MailroomException(PostmarkErrors.InvalidMessageStreamId, "A stream's 'ID' cannot be changed.");
        if (r.MessageStreamType is not null && !r.MessageStreamType.Equals(stream.Type.ToString(), StringComparison.OrdinalIgnoreCase))
            throw new MailroomException(PostmarkErrors.InvalidMessageStreamType, "A stream's 'MessageStreamType' cannot be changed.");
        if (r.Name is not null && string.IsNullOrWhiteSpace(r.Name))
            throw new MailroomException(PostmarkErrors.MessageStreamNameMissing, "The 'Name' field cannot be empty.");
        Apply(stream, r);
        stream.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return ToResponse(stream);
    }

    public async Task<ArchiveStreamResponse> ArchiveAsync(int serverId, string streamId, CancellationToken ct = default)
    {
        var stream = await LoadAsync(serverId, streamId, tracking: true, ct);
        if (stream.StreamId is Mailroom.Contracts.DefaultStreams.Outbound or Mailroom.Contracts.DefaultStreams.Inbound)
            throw new MailroomException(PostmarkErrors.DefaultStreamCannotBeArchived, "The default transactional and inbound streams cannot be archived.");
        if (stream.ArchivedAt is null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            stream.ArchivedAt = now;
            stream.ExpectedPurgeDate = now + platform.ArchivedStreamRetention;
            stream.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return new ArchiveStreamResponse(stream.StreamId, stream.ServerId, Utc(stream.ExpectedPurgeDate!.Value));
    }

    public async Task<MessageStreamResponse> UnarchiveAsync(int serverId, string streamId, CancellationToken ct = default)
    {
        var stream = await LoadAsync(serverId, streamId, tracking: true, ct);
        if (stream.ArchivedAt is not null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            if (stream.ExpectedPurgeDate is { } purge && purge <= now)
                throw new MailroomException(PostmarkErrors.MessageStreamCannotBeUnarchived, "This stream has passed its purge date and cannot be unarchived.");
            stream.ArchivedAt = null;
            stream.ExpectedPurgeDate = null;
            stream.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return ToResponse(stream);
    }

    /// <summary>Deletes archived streams whose purge date has passed. Returns how many went.</summary>
    public async Task<int> PurgeExpiredAsync(CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = await db.MessageStreams.AsNoTracking()
            .Where(s => s.ArchivedAt != null && s.ExpectedPurgeDate != null && s.ExpectedPurgeDate <= now)
            .Select(s => new { s.Id, s.ServerId, s.StreamId }).ToListAsync(ct);
        foreach (var s in expired)
        {
            // The stream's data goes with it: messages (with their deliveries and events), suppressions, SMTP tokens.
            var ids = db.OutboundMessages.Where(m => m.ServerId == s.ServerId && m.Stream == s.StreamId).Select(m => m.Id);
            await db.MessageEvents.Where(e => ids.Contains(e.MessageId)).ExecuteDeleteAsync(ct);
            await db.EngagementEvents.Where(e => ids.Contains(e.MessageId)).ExecuteDeleteAsync(ct);
            await db.TrackedCopies.Where(c => ids.Contains(c.MessageId)).ExecuteDeleteAsync(ct);
            await db.TrackedLinks.Where(l => ids.Contains(l.MessageId)).ExecuteDeleteAsync(ct);
            await db.Deliveries.Where(d => ids.Contains(d.MessageId)).ExecuteDeleteAsync(ct);
            await db.OutboundMessages.Where(m => m.ServerId == s.ServerId && m.Stream == s.StreamId).ExecuteDeleteAsync(ct);
            await db.Suppressions.Where(x => x.ServerId == s.ServerId && x.Stream == s.StreamId).ExecuteDeleteAsync(ct);
            await db.SmtpTokens.Where(x => x.ServerId == s.ServerId && x.StreamId == s.StreamId).ExecuteDeleteAsync(ct);
            await db.MessageStreams.Where(x => x.Id == s.Id).ExecuteDeleteAsync(ct);
        }
        return expired.Count;
    }

    /// <summary>The live (not archived) stream a message names, for sending; null if none.</summary>
    public Task<MessageStream?> FindAsync(int serverId, string streamId, CancellationToken ct = default) =>
        db.MessageStreams.AsNoTracking().FirstOrDefaultAsync(s => s.ServerId == serverId && s.StreamId == streamId, ct);

    private async Task<MessageStream> LoadAsync(int serverId, string streamId, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.MessageStreams : db.MessageStreams.AsNoTracking();
        return await q.FirstOrDefaultAsync(s => s.ServerId == serverId && s.StreamId == streamId, ct)
            ?? throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream for the provided 'ID' was not found: '{streamId}'.");
    }

    private static MessageStreamType ParseType(string type, bool allowInbound)
    {
        if (!Enum.TryParse<MessageStreamType>(type, ignoreCase: true, out var t) || !Enum.IsDefined(t) || int.TryParse(type, out _))
            throw new MailroomException(PostmarkErrors.InvalidMessageStreamType, $"Invalid 'MessageStreamType': '{type}'.");
        if (t == MessageStreamType.Inbound && !allowInbound)
            throw new MailroomException(PostmarkErrors.SecondInboundStream, "A server has exactly one inbound stream; another cannot be created.");
        return t;
    }

    private static void Apply(MessageStream stream, MessageStreamRequest r)
    {
        if (r.Name is not null)
        {
            var name = r.Name.Trim();
            if (name.Length > 100)
                throw new MailroomException(PostmarkErrors.MessageStreamNameTooLong, "The stream 'Name' must be at most 100 characters.");
            if (name.AsSpan().IndexOfAny('\r', '\n') >= 0)
                throw new MailroomException(PostmarkErrors.MessageStreamNameMissing, "The stream 'Name' must not contain line breaks.");
            stream.Name = name;
        }
        if (r.Description is not null)
        {
            if (r.Description.Length > 1000)
                throw new MailroomException(PostmarkErrors.MessageStreamDescriptionTooLong, "The stream 'Description' must be at most 1000 characters.");
            if (HtmlTag().IsMatch(r.Description))
                throw new MailroomException(PostmarkErrors.MessageStreamDescriptionHasHtml, "The stream 'Description' must not contain HTML.");
            stream.Description = r.Description;
        }
        if (r.SubscriptionManagementConfiguration?.UnsubscribeHandlingType is { } handling)
        {
            if (!Enum.TryParse<UnsubscribeHandlingType>(handling, ignoreCase: true, out var h) || !Enum.IsDefined(h) || int.TryParse(handling, out _))
                throw new MailroomException(PostmarkErrors.InvalidUnsubscribeHandlingType, $"Invalid 'UnsubscribeHandlingType': '{handling}'.");
            if (h == UnsubscribeHandlingType.Custom)
                throw new MailroomException(PostmarkErrors.CustomUnsubscribeNotAllowed, "'Custom' unsubscribe handling is not enabled on this install.");
            if (stream.Type != MessageStreamType.Broadcasts && h != UnsubscribeHandlingType.None)
                throw new MailroomException(PostmarkErrors.UnsubscribeHandlingNotSupported, $"'{h}' unsubscribe handling is not supported for {stream.Type} streams.");
            if (stream.Type == MessageStreamType.Broadcasts && h == UnsubscribeHandlingType.None)
                throw new MailroomException(PostmarkErrors.UnsubscribeHandlingNotSupported, "Broadcast streams must handle unsubscribes.");
            stream.UnsubscribeHandling = h;
        }
    }

    internal static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));

    internal static MessageStreamResponse ToResponse(MessageStream s) => new()
    {
        ID = s.StreamId,
        ServerID = s.ServerId,
        Name = s.Name,
        Description = s.Description,
        MessageStreamType = s.Type.ToString(),
        CreatedAt = Utc(s.CreatedAt),
        UpdatedAt = s.UpdatedAt is { } u ? Utc(u) : null,
        ArchivedAt = s.ArchivedAt is { } a ? Utc(a) : null,
        ExpectedPurgeDate = s.ExpectedPurgeDate is { } p ? Utc(p) : null,
        SubscriptionManagementConfiguration = new(s.UnsubscribeHandling.ToString()),
        Paused = s.PausedAt is { } paused ? new StreamPause(Utc(paused), s.PauseReason ?? "") : null,
    };

    /// <summary>
    /// Mailroom extension: holds delivery of a stream. Sends are still accepted and queued; the delivery claim skips
    /// the stream's deliveries until <see cref="ResumeAsync"/>. Pausing a paused stream keeps its first reason.
    /// </summary>
    public async Task<MessageStreamResponse> PauseAsync(int serverId, string streamId, string? reason, CancellationToken ct = default)
    {
        var stream = await LoadAsync(serverId, streamId, tracking: true, ct);
        if (stream.PausedAt is null)
        {
            stream.PausedAt = clock.GetUtcNow().UtcDateTime;
            stream.PauseReason = string.IsNullOrWhiteSpace(reason) ? "Paused by the customer." : reason.Trim()[..Math.Min(reason.Trim().Length, 1000)];
            await db.SaveChangesAsync(ct);
        }
        return ToResponse(stream);
    }

    /// <summary>Releases a paused stream: its queued deliveries are claimed again on the next round.</summary>
    public async Task<MessageStreamResponse> ResumeAsync(int serverId, string streamId, CancellationToken ct = default)
    {
        var stream = await LoadAsync(serverId, streamId, tracking: true, ct);
        if (stream.PausedAt is not null)
        {
            stream.PausedAt = null;
            stream.PauseReason = null;
            await db.SaveChangesAsync(ct);
        }
        return ToResponse(stream);
    }
}
