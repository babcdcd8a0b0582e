using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Accounts;

/// <summary>
/// An SMTP credential tied to one stream of one server (spec §12.2, Postmark's "SMTP token"): the access key is
/// the SMTP user name, the secret key the password. Mail sent with it goes to its stream whatever the
/// <c>X-PM-Message-Stream</c> header says, so a broadcast tool can be given a credential that cannot send
/// transactional mail, and the reverse.
/// </summary>
public sealed class SmtpToken
{
    public int Id { get; set; }
    public int ServerId { get; set; }
    /// <summary>The stream's string ID ("outbound", "broadcast", ...).</summary>
    public required string StreamId { get; set; }
    /// <summary>Random, unique, not secret (it names the credential in lists).</summary>
    public required string AccessKey { get; set; }
    /// <summary>SHA-256 of the secret key, which is shown once, at creation.</summary>
    public required string SecretHash { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>Creates, lists, revokes and checks a server's per-stream SMTP tokens.</summary>
public sealed class SmtpTokenService(MailroomDb db, TimeProvider clock)
{
    /// <summary>Tokens one stream may hold: enough for a key per sending application, few enough to review.</summary>
    public const int MaxPerStream = 20;

    public async Task<SmtpTokenCreated> CreateAsync(int serverId, string streamId, CancellationToken ct = default)
    {
        var stream = await SendingStreamAsync(serverId, streamId, ct);
        if (await db.SmtpTokens.CountAsync(t => t.ServerId == serverId && t.StreamId == stream.StreamId, ct) >= MaxPerStream)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The stream '{stream.StreamId}' already has {MaxPerStream} SMTP tokens; delete one first.");
        var secret = Secrets.NewToken();
        var token = new SmtpToken
        {
            ServerId = serverId,
            StreamId = stream.StreamId,
            AccessKey = Secrets.NewToken(),
            SecretHash = Secrets.Hash(secret),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.SmtpTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new SmtpTokenCreated(token.AccessKey, secret, token.StreamId, new DateTimeOffset(token.CreatedAt));
    }

    public async Task<SmtpTokenList> ListAsync(int serverId, string streamId, CancellationToken ct = default)
    {
        await StreamAsync(serverId, streamId, ct);
        var tokens = await db.SmtpTokens.AsNoTracking().Where(t => t.ServerId == serverId && t.StreamId == streamId)
            .OrderBy(t => t.Id).ToListAsync(ct);
        return new SmtpTokenList(tokens.Count, tokens.Select(t => new SmtpTokenInfo(t.AccessKey, t.StreamId, new DateTimeOffset(t.CreatedAt))).ToList());
    }

    public async Task DeleteAsync(int serverId, string streamId, string accessKey, CancellationToken ct = default)
    {
        await StreamAsync(serverId, streamId, ct);
        var deleted = await db.SmtpTokens.Where(t => t.ServerId == serverId && t.StreamId == streamId && t.AccessKey == accessKey).ExecuteDeleteAsync(ct);
        if (deleted == 0)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"The stream '{streamId}' has no SMTP token '{accessKey}'.");
    }

    /// <summary>The server and stream an access key and secret key grant, or null.</summary>
    public async Task<(ServerIdentity Server, string Stream)?> FindAsync(string accessKey, string secretKey, CancellationToken ct = default)
    {
        var hash = Secrets.Hash(secretKey);
        var found = await (from t in db.SmtpTokens.AsNoTracking()
                           join s in db.Servers.AsNoTracking() on t.ServerId equals s.Id
                           where t.AccessKey == accessKey && t.SecretHash == hash
                           select new { s.AccountId, s.Id, t.StreamId }).FirstOrDefaultAsync(ct);
        return found is null ? null : (new ServerIdentity(found.AccountId, found.Id), found.StreamId);
    }

    private async Task<MessageStream> StreamAsync(int serverId, string streamId, CancellationToken ct) =>
        await db.MessageStreams.AsNoTracking().FirstOrDefaultAsync(s => s.ServerId == serverId && s.StreamId == streamId, ct)
        ?? throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream for the provided 'ID' was not found: '{streamId}'.");

    private async Task<MessageStream> SendingStreamAsync(int serverId, string streamId, CancellationToken ct)
    {
        var stream = await StreamAsync(serverId, streamId, ct);
        if (stream.ArchivedAt is not null)
            throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream '{streamId}' is archived.");
        if (stream.Type == MessageStreamType.Inbound)
            throw new MailroomException(PostmarkErrors.MessageStreamCannotSend, $"The message stream '{streamId}' is an inbound stream and cannot send mail.");
        return stream;
    }
}
