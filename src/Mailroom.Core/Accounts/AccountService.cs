using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Accounts;

/// <summary>Creates accounts and resolves API tokens to the tenant they grant.</summary>
public sealed class AccountService(MailroomDb db, TimeProvider clock, SettingsCache cache)
{
    public async Task<AccountCreated> CreateAsync(string name, string email, CancellationToken ct = default)
    {
        name = name.Trim();
        email = email.Trim();
        if (name.Length is 0 or > 255)
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, "An account needs a name of 1 to 255 characters.");
        if (!Mailroom.Mail.Addresses.EmailAddress.IsValid(email))
            throw new MailroomException(PostmarkErrors.InvalidEmailRequest, $"Invalid email address: '{email}'.");
        var token = Secrets.NewToken();
        var account = new Account
        {
            Name = name,
            Email = email,
            TokenHash = Secrets.Hash(token),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.Accounts.Add(account);
        await db.SaveChangesAsync(ct);
        return new AccountCreated(account.Id, account.Name, token);
    }

    public Task<List<Account>> ListAsync(CancellationToken ct = default) =>
        db.Accounts.AsNoTracking().OrderBy(a => a.Id).ToListAsync(ct);

    /// <summary>The account an account token grants, or null.</summary>
    public async Task<int?> FindAccountByTokenAsync(string token, CancellationToken ct = default)
    {
        var hash = Secrets.Hash(token);
        var id = await db.Accounts.AsNoTracking().Where(a => a.TokenHash == hash).Select(a => (int?)a.Id).FirstOrDefaultAsync(ct);
        return id;
    }

    /// <summary>The server (and its account) a server token grants, or null. Asked on every server-token request,
    /// so the answer is kept in the <see cref="SettingsCache"/> (a deleted server's token is refused at once: the
    /// delete empties it).</summary>
    public async Task<ServerIdentity?> FindServerByTokenAsync(string token, CancellationToken ct = default)
    {
        var hash = Secrets.Hash(token);
        return await cache.GetOrLoadAsync("server-token", hash, () =>
            (from t in db.ServerTokens.AsNoTracking()
             join s in db.Servers.AsNoTracking() on t.ServerId equals s.Id
             where t.TokenHash == hash
             select new ServerIdentity(s.AccountId, s.Id)).FirstOrDefaultAsync(ct));
    }
}

/// <summary>Who a server token speaks for. Every server-scoped query filters by both.</summary>
public sealed record ServerIdentity(int AccountId, int ServerId);
