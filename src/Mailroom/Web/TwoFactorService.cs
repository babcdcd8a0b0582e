using System.Globalization;
using System.Security.Cryptography;
using Mailroom.Core.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using QRCoder;

namespace Mailroom.Web;

/// <summary>What the account page shows while a second factor is being set up: the key in base32, the otpauth URI
/// and the same URI as a QR code (a PNG data URI: the app's CSP allows data: images, no script needed).</summary>
public sealed record TotpSetup(string Secret, string KeyUri, string QrCodeDataUri);

/// <summary>
/// The optional second factor of a web user: a TOTP key (RFC 6238, <see cref="Totp"/>) kept encrypted with Data
/// Protection, confirmed with a code before it is required, ten one-time recovery codes stored as SHA-256 hashes,
/// and the short-lived signed ticket that carries a user from the password step to the code step of sign-in.
/// </summary>
public sealed class TwoFactorService(MailroomDb db, IDataProtectionProvider protection, WebUserService users, TimeProvider clock)
{
    public const int RecoveryCodeCount = 10;
    public const string Issuer = "Mailroom";
    /// <summary>How long the password step stays good for the code step.</summary>
    public static readonly TimeSpan TicketLifetime = TimeSpan.FromMinutes(5);
    private readonly IDataProtector _keys = protection.CreateProtector("Mailroom.Web.TotpKeys.v1");
    private readonly IDataProtector _tickets = protection.CreateProtector("Mailroom.Web.SignInTickets.v1");

    public static bool IsEnabled(WebUser user) => user.TotpEnabledAt is not null && user.TotpSecret is not null;

    /// <summary>A new key, not yet required: the user adds it to an app and proves it with <see cref="ConfirmAsync"/>.</summary>
    public async Task<TotpSetup> BeginAsync(int userId, CancellationToken ct = default)
    {
        var user = await db.WebUsers.FirstAsync(u => u.Id == userId, ct);
        if (IsEnabled(user))
            throw new MailroomException(PostmarkErrors.WebFormRefused, "Two-factor sign-in is already on. Turn it off first to use a new key.");
        var key = Totp.NewKey();
        user.TotpSecret = _keys.Protect(Convert.ToBase64String(key));
        user.TotpLastStep = 0;
        await db.SaveChangesAsync(ct);
        return Setup(user.Email, key);
    }

    /// <summary>The pending setup of a user who started one and has not confirmed it yet, else null.</summary>
    public TotpSetup? PendingSetup(WebUser user) =>
        user.TotpSecret is { } secret && user.TotpEnabledAt is null ? Setup(user.Email, Key(secret)) : null;

    /// <summary>Turns the second factor on when <paramref name="code"/> is right for the pending key; returns the
    /// recovery codes, shown this once (only their hashes are kept).</summary>
    public async Task<IReadOnlyList<string>> ConfirmAsync(int userId, string? code, CancellationToken ct = default)
    {
        var user = await db.WebUsers.FirstAsync(u => u.Id == userId, ct);
        if (user.TotpSecret is null || user.TotpEnabledAt is not null)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "There is no pending two-factor setup: start again.");
        if (Totp.Match(Key(user.TotpSecret), code, clock.GetUtcNow(), user.TotpLastStep) is not { } step)
            throw new MailroomException(PostmarkErrors.WebFormRefused, "That code is not right. Check the time on your device and try the current code.");
        var codes = NewRecoveryCodes();
        user.TotpEnabledAt = clock.GetUtcNow().UtcDateTime;
        user.TotpLastStep = step;
        user.RecoveryCodeHashes = string.Join(' ', codes.Select(HashRecoveryCode));
        await db.SaveChangesAsync(ct);
        return codes;
    }

    /// <summary>
    /// The second step of sign-in (and of turning the factor off): a current TOTP code, used at most once, or an unused
    /// recovery code, then spent. Both are spent with a conditional update, so two requests racing with the same code
    /// cannot both pass.
    /// </summary>
    public async Task<bool> VerifyAsync(int userId, string? code, CancellationToken ct = default)
    {
        var user = await db.WebUsers.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, ct);
        if (user is null || !IsEnabled(user) || string.IsNullOrWhiteSpace(code) || code.Length > 40)
            return false;
        if (Totp.Match(Key(user.TotpSecret!), code, clock.GetUtcNow(), user.TotpLastStep) is { } step)
            return await db.WebUsers.Where(u => u.Id == userId && u.TotpLastStep < step)
                .ExecuteUpdateAsync(s => s.SetProperty(u => u.TotpLastStep, step), ct) == 1;
        var hashes = (user.RecoveryCodeHashes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var hash = HashRecoveryCode(code);
        if (!hashes.Remove(hash))
            return false;
        var before = user.RecoveryCodeHashes;
        return await db.WebUsers.Where(u => u.Id == userId && u.RecoveryCodeHashes == before)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.RecoveryCodeHashes, string.Join(' ', hashes)), ct) == 1;
    }

    public static int RecoveryCodesLeft(WebUser user) => (user.RecoveryCodeHashes ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Turns the second factor off: the password and a code (or a recovery code) are both needed.</summary>
    public async Task DisableAsync(int userId, string? password, string? code, CancellationToken ct = default)
    {
        var user = await db.WebUsers.AsNoTracking().FirstAsync(u => u.Id == userId, ct);
        if (await users.CheckPasswordAsync(user.Email, password ?? "", ct) is null || !await VerifyAsync(userId, code, ct))
            throw new MailroomException(PostmarkErrors.WebFormRefused, "The password or the code is wrong: two-factor sign-in stays on.");
        await db.WebUsers.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.TotpSecret, (string?)null)
            .SetProperty(u => u.TotpEnabledAt, (DateTime?)null)
            .SetProperty(u => u.RecoveryCodeHashes, (string?)null), ct);
    }

    /// <summary>Proof that a user passed the password step, for the code step: user id, security stamp and expiry,
    /// encrypted and authenticated with Data Protection (any node can read it; an altered ticket does not open).</summary>
    public string Ticket(WebUser user) =>
        _tickets.Protect(string.Join('|', user.Id.ToString(CultureInfo.InvariantCulture), user.SecurityStamp,
            (clock.GetUtcNow() + TicketLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)));

    /// <summary>The user a ticket names while it is unexpired and the user's stamp unchanged, else null.</summary>
    public async Task<WebUser?> ReadTicketAsync(string? ticket, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > 2000)
            return null;
        string[] parts;
        try
        {
            parts = _tickets.Unprotect(ticket).Split('|');
        }
        catch (CryptographicException)
        {
            return null;
        }
        if (parts.Length != 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var id)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var expires) || clock.GetUtcNow().ToUnixTimeSeconds() > expires)
            return null;
        var user = await db.WebUsers.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        return user is not null && user.SecurityStamp == parts[1] && IsEnabled(user) ? user : null;
    }

    private byte[] Key(string protectedKey) => Convert.FromBase64String(_keys.Unprotect(protectedKey));

    private static TotpSetup Setup(string email, byte[] key)
    {
        var uri = Totp.KeyUri(Issuer, email, key);
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(4);
        return new TotpSetup(Base32.Encode(key), uri, "data:image/png;base64," + Convert.ToBase64String(png));
    }

    /// <summary>Ten codes of 10 base32 characters (50 random bits each), written xxxxx-xxxxx.</summary>
    private static List<string> NewRecoveryCodes() =>
        Enumerable.Range(0, RecoveryCodeCount).Select(_ =>
        {
            var s = Base32.Encode(RandomNumberGenerator.GetBytes(7))[..10].ToLowerInvariant();
            return s[..5] + "-" + s[5..];
        }).ToList();

    private static string HashRecoveryCode(string code) =>
        Secrets.Hash(code.Replace("-", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant());
}
