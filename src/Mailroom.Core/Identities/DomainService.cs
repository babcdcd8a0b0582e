using Mailroom.Contracts;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Identities;

/// <summary>
/// Domains of one account (spec §5): every query is filtered by the account id, so another account's domain is
/// "not found" (510), never "not yours". Verification reads DNS; rotation moves keys pending → active → revoked.
/// </summary>
public sealed class DomainService(
    MailroomDb db, DkimKeyStore keys, DnsRecordChecks checks, PlatformSettings platform, TimeProvider clock, ILogger<DomainService> log)
{
    public async Task<DomainList> ListAsync(int accountId, Paging paging, CancellationToken ct = default)
    {
        var q = db.Domains.AsNoTracking().Where(d => d.AccountId == accountId);
        var total = await q.CountAsync(ct);
        var page = await q.OrderBy(d => d.Id).Skip(paging.Offset).Take(paging.Count)
            .Select(d => new DomainListItem(d.Id, d.Name, d.SpfVerified, d.DkimVerified, false, d.ReturnPathVerified))
            .ToListAsync(ct);
        return new DomainList(total, page);
    }

    public async Task<DomainDetails> GetAsync(int accountId, int id, CancellationToken ct = default) =>
        ToDetails(await LoadAsync(accountId, id, tracking: false, ct));

    public async Task<DomainDetails> CreateAsync(int accountId, DomainRequest request, CancellationToken ct = default)
    {
        var name = IdentityRules.DomainName(request.Name);
        if (await db.Domains.AnyAsync(d => d.AccountId == accountId && d.Name == name, ct))
            throw new MailroomException(PostmarkErrors.DomainExists, $"The domain '{name}' already exists on this account.");
        var domain = new SendingDomain
        {
            AccountId = accountId,
            Name = name,
            ReturnPathDomain = string.IsNullOrWhiteSpace(request.ReturnPathDomain)
                ? DefaultReturnPath(name)
                : IdentityRules.ReturnPathDomain(request.ReturnPathDomain, name),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        // A domain starts with a pending key: its record must be published and verified before it signs (§5.3).
        domain.Keys.Add(keys.NewKey(DkimKeyState.Pending, []));
        db.Domains.Add(domain);
        await db.SaveUniqueAsync(() => new MailroomException(PostmarkErrors.DomainExists, $"The domain '{name}' already exists on this account."), ct);
        return ToDetails(domain);
    }

    /// <summary>Only <c>ReturnPathDomain</c> can change; "" puts back the default <c>pm-bounces.&lt;domain&gt;</c>.
    /// A new Return-Path domain is unverified until its CNAME is checked.</summary>
    public async Task<DomainDetails> EditAsync(int accountId, int id, DomainRequest request, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        if (request.ReturnPathDomain is not null)
        {
            var returnPath = request.ReturnPathDomain.Trim().Length == 0
                ? DefaultReturnPath(domain.Name)
                : IdentityRules.ReturnPathDomain(request.ReturnPathDomain, domain.Name);
            if (returnPath != domain.ReturnPathDomain)
            {
                domain.ReturnPathDomain = returnPath;
                domain.ReturnPathVerified = false;
                domain.ReturnPathCheckedAt = null;
                domain.ReturnPathProblem = "";
                domain.ReturnPathLostAt = null;
            }
        }
        await db.SaveChangesAsync(ct);
        return ToDetails(domain);
    }

    /// <summary>Deletes the domain and its keys; returns its name.</summary>
    public async Task<string> DeleteAsync(int accountId, int id, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        db.Domains.Remove(domain);
        await db.SaveChangesAsync(ct);
        return domain.Name;
    }

    public async Task<DomainDetails> VerifyDkimAsync(int accountId, int id, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        await CheckDkimAsync(domain, ct);
        await db.SaveChangesAsync(ct);
        return ToDetails(domain);
    }

    public async Task<DomainDetails> VerifyReturnPathAsync(int accountId, int id, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        await CheckReturnPathAsync(domain, ct);
        await db.SaveChangesAsync(ct);
        return ToDetails(domain);
    }

    public async Task<DomainDetails> VerifySpfAsync(int accountId, int id, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        var result = await checks.SpfIncludesAsync(domain.Name, platform.SpfIncludeHost, ct);
        if (result.Verdict != CheckVerdict.Unknown)
            domain.SpfVerified = result.Passed;
        await db.SaveChangesAsync(ct);
        return ToDetails(domain);
    }

    /// <summary>
    /// Starts a rotation: a new pending key whose record the customer publishes beside the active one. The active
    /// key keeps signing until <see cref="VerifyDkimAsync"/> finds the new record. One rotation at a time (505).
    /// </summary>
    public async Task<DomainDetails> RotateDkimAsync(int accountId, int id, CancellationToken ct = default)
    {
        var domain = await LoadAsync(accountId, id, tracking: true, ct);
        if (domain.Keys.Any(k => k.State == DkimKeyState.Pending))
            throw RotationPending(domain.Name);
        domain.Keys.Add(keys.NewKey(DkimKeyState.Pending, domain.Keys.Select(k => k.Selector)));
        // A concurrent rotation won the unique (domain, state) index.
        await db.SaveUniqueAsync(() => RotationPending(domain.Name), ct);
        return ToDetails(domain);
    }

    /// <summary>The account's domain of this name with its keys, read-only; null if none.</summary>
    public Task<SendingDomain?> FindAsync(int accountId, string name, CancellationToken ct = default) =>
        db.Domains.AsNoTracking().Include(d => d.Keys).FirstOrDefaultAsync(d => d.AccountId == accountId && d.Name == name, ct);

    /// <summary>
    /// The background re-check: every domain with something verified or a key waiting is checked again. A record
    /// that has gone turns the domain unverified, with the time and the reason kept; a DNS failure changes nothing.
    /// A pending key whose record has appeared is promoted, as <see cref="VerifyDkimAsync"/> would.
    /// Returns how many domains were checked.
    /// </summary>
    public async Task<int> RecheckAsync(CancellationToken ct = default)
    {
        var checkedCount = 0;
        var after = 0;
        while (true)
        {
            var batch = await db.Domains.Include(d => d.Keys)
                .Where(d => d.Id > after && (d.DkimVerified || d.ReturnPathVerified || d.Keys.Any(k => k.State == DkimKeyState.Pending)))
                .OrderBy(d => d.Id).Take(100).ToListAsync(ct);
            if (batch.Count == 0)
                return checkedCount;
            foreach (var domain in batch)
            {
                await CheckDkimAsync(domain, ct);
                if (domain.ReturnPathVerified)
                    await CheckReturnPathAsync(domain, ct);
                await db.SaveChangesAsync(ct);
                checkedCount++;
            }
            after = batch[^1].Id;
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// Looks for the pending key's record first: found, the key is promoted (the active one is revoked, the last
    /// revoked one forgotten). Otherwise the active key's record is checked and decides <c>DKIMVerified</c>.
    /// </summary>
    private async Task CheckDkimAsync(SendingDomain domain, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        domain.DkimCheckedAt = now;
        var pending = domain.Keys.SingleOrDefault(k => k.State == DkimKeyState.Pending);
        var pendingProblem = "";
        if (pending is not null)
        {
            var found = await checks.DkimAsync(DkimKeyStore.Host(pending, domain.Name), pending.PublicKey, ct);
            if (found.Passed)
            {
                await PromoteAsync(domain, pending, now, ct);
                return;
            }
            pendingProblem = found.Detail;
        }
        var active = domain.Keys.SingleOrDefault(k => k.State == DkimKeyState.Active);
        if (active is null)
        {
            domain.DkimProblem = pendingProblem;
            return;
        }
        var result = await checks.DkimAsync(DkimKeyStore.Host(active, domain.Name), active.PublicKey, ct);
        var wasVerified = domain.DkimVerified;
        (domain.DkimVerified, domain.DkimProblem, domain.DkimLostAt) = VerificationState.Apply(result, domain.DkimVerified, domain.DkimLostAt, now);
        if (result.Verdict == CheckVerdict.Pass)
            domain.DkimProblem = pendingProblem;
        if (wasVerified && !domain.DkimVerified)
            log.LogWarning("DKIM record of {Domain} (account {AccountId}) is gone: {Reason}", domain.Name, domain.AccountId, result.Detail);
    }

    /// <summary>Pending → active, active → revoked, previous revoked → deleted. Saved step by step in one
    /// transaction, so the unique (domain, state) index never sees two keys in one state.</summary>
    private async Task PromoteAsync(SendingDomain domain, StoredDkimKey pending, DateTime now, CancellationToken ct)
    {
        var active = domain.Keys.SingleOrDefault(k => k.State == DkimKeyState.Active);
        var revoked = domain.Keys.SingleOrDefault(k => k.State == DkimKeyState.Revoked);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (revoked is not null)
        {
            db.DkimKeys.Remove(revoked);
            await db.SaveChangesAsync(ct);
        }
        if (active is not null)
        {
            active.State = DkimKeyState.Revoked;
            active.RevokedAt = now;
            await db.SaveChangesAsync(ct);
        }
        pending.State = DkimKeyState.Active;
        pending.ActivatedAt = now;
        domain.DkimVerified = true;
        domain.DkimProblem = "";
        domain.DkimLostAt = null;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        log.LogInformation("DKIM key {Selector} of {Domain} is now active", pending.Selector, domain.Name);
    }

    private async Task CheckReturnPathAsync(SendingDomain domain, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var result = await checks.CnameAsync(domain.ReturnPathDomain, platform.ReturnPathHost, ct);
        var wasVerified = domain.ReturnPathVerified;
        domain.ReturnPathCheckedAt = now;
        (domain.ReturnPathVerified, domain.ReturnPathProblem, domain.ReturnPathLostAt) =
            VerificationState.Apply(result, domain.ReturnPathVerified, domain.ReturnPathLostAt, now);
        if (wasVerified && !domain.ReturnPathVerified)
            log.LogWarning("Return-Path CNAME {Host} of account {AccountId} is gone: {Reason}", domain.ReturnPathDomain, domain.AccountId, result.Detail);
    }

    private async Task<SendingDomain> LoadAsync(int accountId, int id, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.Domains : db.Domains.AsNoTracking();
        return await q.Include(d => d.Keys).FirstOrDefaultAsync(d => d.Id == id && d.AccountId == accountId, ct)
            ?? throw MailroomException.NotFound(PostmarkErrors.DomainNotFound, $"Domain '{id}' was not found.");
    }

    private static string DefaultReturnPath(string domain) => "pm-bounces." + domain;

    private static MailroomException RotationPending(string domain) =>
        new(PostmarkErrors.DkimRenewalPending, $"A new DKIM key for {domain} is already waiting for its DNS record; verify it before rotating again.");

    public DomainDetails ToDetails(SendingDomain d)
    {
        var active = d.Keys.SingleOrDefault(k => k.State == DkimKeyState.Active);
        var pending = d.Keys.SingleOrDefault(k => k.State == DkimKeyState.Pending);
        var revoked = d.Keys.SingleOrDefault(k => k.State == DkimKeyState.Revoked);
        return new DomainDetails
        {
            ID = d.Id,
            Name = d.Name,
            SPFVerified = d.SpfVerified,
            SPFHost = d.Name,
            SPFTextValue = platform.CustomerSpfRecord,
            DKIMVerified = d.DkimVerified,
            WeakDKIM = false,
            DKIMHost = active is null ? "" : DkimKeyStore.Host(active, d.Name),
            DKIMTextValue = active is null ? "" : DkimTxtRecord.Format(active.PublicKey),
            DKIMPendingHost = pending is null ? "" : DkimKeyStore.Host(pending, d.Name),
            DKIMPendingTextValue = pending is null ? "" : DkimTxtRecord.Format(pending.PublicKey),
            DKIMRevokedHost = revoked is null ? "" : DkimKeyStore.Host(revoked, d.Name),
            DKIMRevokedTextValue = revoked is null ? "" : DkimTxtRecord.Format(revoked.PublicKey),
            SafeToRemoveRevokedKeyFromDNS = revoked?.RevokedAt is { } at && clock.GetUtcNow().UtcDateTime >= at + platform.RevokedDkimKeyGracePeriod,
            DKIMUpdateStatus = pending is null ? "Verified" : "Pending",
            ReturnPathDomain = d.ReturnPathDomain,
            ReturnPathDomainVerified = d.ReturnPathVerified,
            ReturnPathDomainCNAMEValue = platform.ReturnPathHost,
        };
    }
}

/// <summary>How one DNS check moves a verified flag: a pass verifies, a definite failure unverifies (noting when a
/// verified record was lost), an inconclusive lookup leaves the flag alone and only notes the reason.</summary>
internal static class VerificationState
{
    public static (bool Verified, string Problem, DateTime? LostAt) Apply(CheckResult result, bool verified, DateTime? lostAt, DateTime now) =>
        result.Verdict switch
        {
            CheckVerdict.Pass => (true, "", null),
            CheckVerdict.Fail => (false, result.Detail, verified ? now : lostAt),
            _ => (verified, result.Detail, lostAt),
        };
}
