using System.Globalization;
using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>A link just made: its URL is shown once (only the token's hash is stored).</summary>
public sealed record ShareLinkCreated(ServerShareLink Link, string Url);

public enum ShareLinkState { Valid, Gone, Unknown }

/// <summary>What opening a link found: the link when valid; Gone for a real link that expired or was revoked
/// (answered 410); Unknown for anything else, a forged or altered token included (answered 404).</summary>
public sealed record ShareLinkCheck(ShareLinkState State, ServerShareLink? Link);

/// <summary>
/// The agency's customer view: signed, expiring, revocable links to a read-only view of one server. The token is the
/// server id, the expiry and 128 random bits, sealed with Data Protection (authenticated encryption under the
/// install's shared key ring, so any node verifies it and an altered token never opens); the database keeps only its
/// SHA-256, with the expiry and the revocation that decide whether it still opens.
/// </summary>
public sealed class ShareLinkService(MailroomDb db, IDataProtectionProvider protection, PlatformSettings platform, TimeProvider clock)
{
    public const string PathPrefix = "/app/share/";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);
    private readonly IDataProtector _protector = protection.CreateProtector("Mailroom.Web.ShareLinks.v1");

    public async Task<ShareLinkCreated> CreateAsync(int accountId, int serverId, string? label, TimeSpan lifetime, int? createdBy,
        CancellationToken ct = default)
    {
        label = (label ?? "").Trim();
        if (label.Length is 0 or > 200)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Name the link (who it is for), in at most 200 characters.");
        if (lifetime <= TimeSpan.Zero || lifetime > MaxLifetime)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "A link lasts from one day to a year.");
        if (!await db.Servers.AnyAsync(s => s.Id == serverId && s.AccountId == accountId, ct))
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Server not found.");
        var now = clock.GetUtcNow();
        var expires = now + lifetime;
        var token = _protector.Protect(string.Join('|', serverId.ToString(CultureInfo.InvariantCulture),
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))));
        var link = new ServerShareLink
        {
            AccountId = accountId, ServerId = serverId, Label = label, TokenHash = Secrets.Hash(token), CreatedByUserId = createdBy,
            CreatedAt = now.UtcDateTime, ExpiresAt = expires.UtcDateTime,
        };
        db.ServerShareLinks.Add(link);
        await db.SaveChangesAsync(ct);
        return new ShareLinkCreated(link, $"{platform.PublicUrl.TrimEnd('/')}{PathPrefix}{token}");
    }

    public Task<List<ServerShareLink>> ListAsync(int accountId, int serverId, CancellationToken ct = default) =>
        db.ServerShareLinks.AsNoTracking().Where(l => l.AccountId == accountId && l.ServerId == serverId)
            .OrderByDescending(l => l.Id).Take(100).ToListAsync(ct);

    /// <summary>Revokes a link of this account's server at once; false when there is no such link.</summary>
    public async Task<bool> RevokeAsync(int accountId, int serverId, int linkId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return await db.ServerShareLinks.Where(l => l.Id == linkId && l.AccountId == accountId && l.ServerId == serverId && l.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.RevokedAt, now), ct) == 1;
    }

    /// <summary>Checks a token from a URL: its seal, then its row (unrevoked, unexpired, the same server).</summary>
    public async Task<ShareLinkCheck> OpenAsync(string? token, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1000)
            return new(ShareLinkState.Unknown, null);
        string[] parts;
        try
        {
            parts = _protector.Unprotect(token).Split('|');
        }
        catch (CryptographicException)
        {
            return new(ShareLinkState.Unknown, null);
        }
        if (parts.Length != 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var serverId)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var expires))
            return new(ShareLinkState.Unknown, null);
        var hash = Secrets.Hash(token);
        var link = await db.ServerShareLinks.AsNoTracking().FirstOrDefaultAsync(l => l.TokenHash == hash, ct);
        if (link is null || link.ServerId != serverId)
            return new(ShareLinkState.Unknown, null); // sealed by this install but not (or no longer) stored: the server was deleted
        var now = clock.GetUtcNow();
        if (link.RevokedAt is not null || now.ToUnixTimeSeconds() >= expires || now.UtcDateTime >= link.ExpiresAt)
            return new(ShareLinkState.Gone, null);
        return new(ShareLinkState.Valid, link);
    }
}
