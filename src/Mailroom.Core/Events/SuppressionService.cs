using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Events;

/// <summary>
/// The Suppressions API (spec §7): the inactive recipients of one stream of one server. Every query filters by
/// server id; a stream of another server is "not found" (1226).
/// </summary>
public sealed class SuppressionService(MailroomDb db, TimeProvider clock, Mailroom.Core.Webhooks.WebhookOutbox webhooks)
{
    public const int MaxItems = 50;

    public async Task<SuppressionDump> DumpAsync(int serverId, string stream, string? reason, string? origin, DateTimeOffset? from,
        DateTimeOffset? to, string? email, CancellationToken ct)
    {
        await RequireStreamAsync(serverId, stream, ct);
        var q = db.Suppressions.AsNoTracking().Where(s => s.ServerId == serverId && s.Stream == stream);
        if (reason is not null)
        {
            if (!Enum.TryParse<SuppressionReason>(reason, true, out var r) || int.TryParse(reason, out _))
                throw new MailroomException(PostmarkErrors.InvalidSuppressionReason, $"Invalid 'SuppressionReason': '{reason}'.");
            q = q.Where(s => s.Reason == r);
        }
        if (origin is not null)
        {
            if (!Enum.TryParse<SuppressionOrigin>(origin, true, out var o) || int.TryParse(origin, out _))
                throw new MailroomException(PostmarkErrors.InvalidSuppressionOrigin, $"Invalid 'Origin': '{origin}'.");
            q = q.Where(s => s.Origin == o);
        }
        if (from is { } f)
        {
            var ms = f.ToUnixTimeMilliseconds();
            q = q.Where(s => s.CreatedAt >= ms);
        }
        if (to is { } t)
        {
            var ms = t.ToUnixTimeMilliseconds();
            q = q.Where(s => s.CreatedAt <= ms);
        }
        if (email is not null)
        {
            var lower = email.Trim().ToLowerInvariant();
            q = q.Where(s => s.Email == lower);
        }
        var rows = await q.OrderByDescending(s => s.CreatedAt).ThenBy(s => s.Email).ToListAsync(ct);
        return new SuppressionDump(rows.Select(s => new SuppressionEntry(s.Email, s.Reason.ToString(), s.Origin.ToString(),
            DateTimeOffset.FromUnixTimeMilliseconds(s.CreatedAt))).ToList());
    }

    /// <summary>Adds customer suppressions (ManualSuppression, origin Customer). Result items keep request order.</summary>
    public async Task<SuppressionResults> CreateAsync(int serverId, string stream, SuppressionRequest? request, CancellationToken ct)
    {
        var items = await ReadItemsAsync(serverId, stream, request, ct);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var results = new List<SuppressionResult>();
        foreach (var (raw, email) in items)
        {
            if (email is null)
            {
                results.Add(InvalidAddress(raw));
                continue;
            }
            var exists = db.Suppressions.Local.Any(s => s.ServerId == serverId && s.Stream == stream && s.Email == email)
                || await db.Suppressions.AnyAsync(s => s.ServerId == serverId && s.Stream == stream && s.Email == email, ct);
            if (!exists)
            {
                var suppression = new Suppression
                {
                    ServerId = serverId, Stream = stream, Email = email, Reason = SuppressionReason.ManualSuppression,
                    Origin = SuppressionOrigin.Customer, CreatedAt = now,
                };
                db.Suppressions.Add(suppression);
                await webhooks.AddSubscriptionChangeAsync(db, suppression, suppress: true, ct);
            }
            results.Add(new SuppressionResult(raw, "Suppressed", null));
        }
        await db.SaveChangesAsync(ct);
        return new SuppressionResults(results);
    }

    /// <summary>What creating and deleting share: a valid body on an existing stream; each item with its address
    /// normalized (lower case), or null when it is not an address.</summary>
    private async Task<List<(string Raw, string? Email)>> ReadItemsAsync(int serverId, string stream, SuppressionRequest? request, CancellationToken ct)
    {
        var items = Validate(request);
        await RequireStreamAsync(serverId, stream, ct);
        return items.Select(raw => (raw, IsAddress(raw) ? raw.Trim().ToLowerInvariant() : (string?)null)).ToList();
    }

    private static SuppressionResult InvalidAddress(string raw) => new(raw, "Failed", "Invalid email address.");

    /// <summary>
    /// Deletes suppressions: hard bounces (which reactivates the bounce) and the customer's own manual suppressions.
    /// Spam complaints, recipient unsubscribes and admin suppressions fail (spec §7.2). An address that is not
    /// suppressed answers Deleted.
    /// </summary>
    public async Task<SuppressionResults> DeleteAsync(int serverId, string stream, SuppressionRequest? request, CancellationToken ct)
    {
        var items = await ReadItemsAsync(serverId, stream, request, ct);
        var results = new List<SuppressionResult>();
        foreach (var (raw, email) in items)
        {
            if (email is null)
            {
                results.Add(InvalidAddress(raw));
                continue;
            }
            var row = await db.Suppressions.FirstOrDefaultAsync(s => s.ServerId == serverId && s.Stream == stream && s.Email == email, ct);
            if (row is null)
            {
                results.Add(new SuppressionResult(raw, "Deleted", null));
                continue;
            }
            var deletable = row.Reason == SuppressionReason.HardBounce && row.Origin == SuppressionOrigin.Recipient
                || row.Reason == SuppressionReason.ManualSuppression && row.Origin == SuppressionOrigin.Customer;
            if (!deletable)
            {
                results.Add(new SuppressionResult(raw, "Failed", row.Reason == SuppressionReason.SpamComplaint
                    ? "You do not have the required authority to change this suppression: the recipient marked a message as spam."
                    : "You do not have the required authority to change this suppression."));
                continue;
            }
            db.Suppressions.Remove(row);
            await webhooks.AddSubscriptionChangeAsync(db, row, suppress: false, ct);
            if (row.Reason == SuppressionReason.HardBounce)
                await db.Bounces.Where(b => b.ServerId == serverId && b.Stream == stream && b.Email == email && b.Inactive)
                    .ExecuteUpdateAsync(u => u.SetProperty(b => b.Inactive, false), ct);
            results.Add(new SuppressionResult(raw, "Deleted", null));
        }
        await db.SaveChangesAsync(ct);
        return new SuppressionResults(results);
    }

    private static List<string> Validate(SuppressionRequest? request)
    {
        if (request?.Suppressions is not { } list)
            throw new MailroomException(PostmarkErrors.InvalidSuppressionRequest, "The request body must be {\"Suppressions\": [{\"EmailAddress\": ...}]}.");
        if (list.Count > MaxItems)
            throw new MailroomException(PostmarkErrors.TooManySuppressions, $"At most {MaxItems} suppressions can be changed in one request.");
        if (list.Count == 0)
            throw new MailroomException(PostmarkErrors.InvalidSuppressionRequest, "The 'Suppressions' list is empty.");
        var result = new List<string>();
        foreach (var item in list)
        {
            if (string.IsNullOrWhiteSpace(item?.EmailAddress))
                throw new MailroomException(PostmarkErrors.SuppressionAddressRequired, "Every suppression needs an 'EmailAddress'.");
            result.Add(item.EmailAddress);
        }
        return result;
    }

    private static bool IsAddress(string value) => EmailAddress.IsValid(value.Trim());

    private async Task RequireStreamAsync(int serverId, string stream, CancellationToken ct)
    {
        if (!await db.MessageStreams.AnyAsync(s => s.ServerId == serverId && s.StreamId == stream, ct))
            throw new MailroomException(PostmarkErrors.MessageStreamIdNotFound, $"The message stream for the provided 'ID' was not found: '{stream}'.");
    }
}
