using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Ingress;

/// <summary>
/// Which recipients of a stream are inactive (hard bounce, spam complaint, manual suppression): the send path
/// asks before accepting. Suppressions are per server and stream: another stream still sends.
/// </summary>
public sealed class RecipientSuppressions(MailroomDb db)
{
    public async Task<IReadOnlyList<string>> FindSuppressedAsync(int serverId, string stream, IReadOnlyList<string> recipients, CancellationToken ct)
    {
        var lower = recipients.Select(r => r.ToLowerInvariant()).ToList();
        return await db.Suppressions.AsNoTracking()
            .Where(s => s.ServerId == serverId && s.Stream == stream && lower.Contains(s.Email))
            .Select(s => s.Email).ToListAsync(ct);
    }
}
