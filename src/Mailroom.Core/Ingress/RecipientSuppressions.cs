using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Ingress;

/// <summary>
/// Which recipients of a stream are inactive (hard bounce, spam complaint, manual suppression): the send path
/// asks before accepting. Suppressions are per server and stream: another stream still sends.
/// </summary>
public sealed class RecipientSuppressions(MailroomDb db)
{
    /// <summary>The (stream, lower-case address) pairs among <paramref name="recipients"/> that are inactive.</summary>
    public async Task<HashSet<(string Stream, string Email)>> FindSuppressedAsync(int serverId, IReadOnlyList<string> streams,
        IReadOnlyList<string> recipients, CancellationToken ct)
    {
        var lower = recipients.Select(r => r.ToLowerInvariant()).Distinct().ToList();
        var rows = await db.Suppressions.AsNoTracking()
            .Where(s => s.ServerId == serverId && streams.Contains(s.Stream) && lower.Contains(s.Email))
            .Select(s => new { s.Stream, s.Email }).ToListAsync(ct);
        return rows.Select(r => (r.Stream, r.Email)).ToHashSet();
    }
}
