using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Web;

/// <summary>A user made by <c>mailroom users create</c>: the link is shown once (only its hash is stored).</summary>
public sealed record WebUserCreated(int UserId, int AccountId, string Email, WebRole Role, string SetPasswordLink, DateTime ExpiresAt);

/// <summary>
/// Web app users: creation with a one-time set-password link, password checks with ASP.NET Core Identity's
/// <see cref="PasswordHasher{TUser}"/> (PBKDF2, versioned format: a stronger default later rehashes on sign-in), and
/// the security stamp that "sign out everywhere" and a password change rotate.
/// </summary>
public sealed class WebUserService(MailroomDb db, PlatformSettings platform, TimeProvider clock)
{
    public static readonly TimeSpan LinkLifetime = TimeSpan.FromDays(3);
    public const int MinPasswordLength = 12;
    private static readonly PasswordHasher<WebUser> Hasher = new();

    public async Task<WebUserCreated> CreateAsync(int accountId, string email, WebRole role, IReadOnlyList<(int ServerId, bool CanWrite)> servers,
        CancellationToken ct = default)
    {
        var (user, token) = await AddAsync(accountId, email, role, servers, ct);
        await db.SaveChangesAsync(ct);
        return Created(user, token);
    }

    /// <summary>
    /// Checks and adds a new user to this unit of work without saving it, so a caller can commit it together with other
    /// rows (the invitation email); the set-password token is returned once, only its hash is kept.
    /// </summary>
    internal async Task<(WebUser User, string Token)> AddAsync(int accountId, string email, WebRole role,
        IReadOnlyList<(int ServerId, bool CanWrite)> servers, CancellationToken ct)
    {
        email = email.Trim();
        if (!Mailroom.Mail.Addresses.EmailAddress.IsValid(email))
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"'{email}' is not a valid email address.");
        if (!await db.Accounts.AnyAsync(a => a.Id == accountId, ct))
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"Account {accountId} was not found.");
        var normalized = email.ToLowerInvariant();
        if (await db.WebUsers.AnyAsync(u => u.NormalizedEmail == normalized, ct))
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"A user with the email '{email}' already exists.");
        if (role != WebRole.Member && servers.Count > 0)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Owners and admins reach every server: --server is for members.");
        var ids = servers.Select(s => s.ServerId).ToList();
        var owned = await db.Servers.Where(s => s.AccountId == accountId && ids.Contains(s.Id)).Select(s => s.Id).ToListAsync(ct);
        if (ids.Except(owned).FirstOrDefault() is var missing and not 0)
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"Server {missing} is not a server of account {accountId}.");
        var now = clock.GetUtcNow().UtcDateTime;
        var token = NewToken();
        var user = new WebUser
        {
            AccountId = accountId, Email = email, NormalizedEmail = normalized, Role = role, SecurityStamp = NewToken(),
            SetPasswordTokenHash = Secrets.Hash(token), SetPasswordExpiresAt = now + LinkLifetime, CreatedAt = now,
            Servers = servers.Select(s => new WebUserServer { ServerId = s.ServerId, CanWrite = s.CanWrite }).ToList(),
        };
        db.WebUsers.Add(user);
        return (user, token);
    }

    /// <summary>A new set-password token for a user of this unit of work (not saved): the earlier link stops working.</summary>
    internal string RenewLink(WebUser user)
    {
        var token = NewToken();
        user.SetPasswordTokenHash = Secrets.Hash(token);
        user.SetPasswordExpiresAt = clock.GetUtcNow().UtcDateTime + LinkLifetime;
        return token;
    }

    internal WebUserCreated Created(WebUser user, string token) =>
        new(user.Id, user.AccountId, user.Email, user.Role, SetPasswordLink(token), user.SetPasswordExpiresAt!.Value);

    /// <summary>A new one-time link for an existing user (a forgotten password, an expired link).</summary>
    public async Task<WebUserCreated> ResetLinkAsync(string email, CancellationToken ct = default)
    {
        var normalized = email.Trim().ToLowerInvariant();
        var user = await db.WebUsers.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct)
            ?? throw new MailroomException(PostmarkErrors.WebFormRefused, $"No user with the email '{email}'.");
        var token = RenewLink(user);
        await db.SaveChangesAsync(ct);
        return Created(user, token);
    }

    public Task<List<WebUser>> ListAsync(int accountId, CancellationToken ct = default) =>
        db.WebUsers.AsNoTracking().Include(u => u.Servers).Where(u => u.AccountId == accountId).OrderBy(u => u.Id).ToListAsync(ct);

    /// <summary>The user a valid, unexpired set-password token names, or null.</summary>
    public async Task<WebUser?> FindByLinkAsync(string? token, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
            return null;
        var hash = Secrets.Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        var user = await db.WebUsers.FirstOrDefaultAsync(u => u.SetPasswordTokenHash == hash, ct);
        return user is not null && user.SetPasswordExpiresAt > now ? user : null;
    }

    /// <summary>Sets the password from a one-time link: the link is spent and every earlier session ends.</summary>
    public async Task<WebUser> SetPasswordAsync(string token, string password, CancellationToken ct = default)
    {
        var user = await FindByLinkAsync(token, ct) ?? throw new MailroomException(PostmarkErrors.WebFormRefused, "This link is invalid, used or expired. Ask for a new one.");
        if (password.Length < MinPasswordLength)
            throw new MailroomException(PostmarkErrors.WebFormRefused, $"Use at least {MinPasswordLength} characters.");
        user.PasswordHash = Hasher.HashPassword(user, password);
        user.SetPasswordTokenHash = null;
        user.SetPasswordExpiresAt = null;
        user.SecurityStamp = NewToken();
        await db.SaveChangesAsync(ct);
        return user;
    }

    /// <summary>The user when the password matches, else null (the same answer for an unknown email).</summary>
    public async Task<WebUser?> CheckPasswordAsync(string email, string password, CancellationToken ct = default)
    {
        var normalized = email.Trim().ToLowerInvariant();
        var user = await db.WebUsers.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (user?.PasswordHash is null)
        {
            // Spend the same work as a real check, so timing does not tell which emails exist.
            Hasher.VerifyHashedPassword(Dummy, DummyHash, password);
            return null;
        }
        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed)
            return null;
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = Hasher.HashPassword(user, password);
            await db.SaveChangesAsync(ct);
        }
        return user;
    }

    /// <summary>"Sign out everywhere": a new stamp makes every cookie issued before it invalid on its next request.</summary>
    public async Task RotateStampAsync(int userId, CancellationToken ct = default) =>
        await db.WebUsers.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.SecurityStamp, NewToken()), ct);

    public Task<WebUser?> FindAsync(int userId, CancellationToken ct = default) =>
        db.WebUsers.AsNoTracking().Include(u => u.Servers).FirstOrDefaultAsync(u => u.Id == userId, ct);

    private string SetPasswordLink(string token) => $"{platform.PublicUrl.TrimEnd('/')}/app/set-password?token={token}";

    private static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static readonly WebUser Dummy = new() { Email = "", NormalizedEmail = "", SecurityStamp = "" };
    private static readonly string DummyHash = Hasher.HashPassword(Dummy, "not a password of anyone");
}
