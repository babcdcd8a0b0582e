using System.Security.Cryptography;
using Mailroom.Contracts;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Identities;

/// <summary>How a confirmation link was received.</summary>
public enum ConfirmationOutcome { Confirmed, AlreadyUsed, Superseded, Expired, Unknown }

public sealed record ConfirmationResult(ConfirmationOutcome Outcome, string EmailAddress);

/// <summary>
/// Sender signatures of one account (spec §5): every query is filtered by the account id, so another account's
/// signature is "not found" (501). Creating one, and resending, queues a confirmation email with a one-time link;
/// the link's owner confirms the address with <see cref="ConfirmAsync"/>.
/// </summary>
public sealed class SenderSignatureService(
    MailroomDb db, OutboundQueue queue, DomainService domains, DnsRecordChecks checks,
    PlatformSettings platform, TimeProvider clock)
{
    public async Task<SignatureList> ListAsync(int accountId, Paging paging, CancellationToken ct = default)
    {
        var q = db.SenderSignatures.AsNoTracking().Where(s => s.AccountId == accountId);
        var total = await q.CountAsync(ct);
        var page = await q.OrderBy(s => s.Id).Skip(paging.Offset).Take(paging.Count)
            .Select(s => new SignatureListItem(s.Id, s.Domain, s.EmailAddress, s.ReplyToEmail, s.Name, s.Confirmed))
            .ToListAsync(ct);
        return new SignatureList(total, page);
    }

    public async Task<SignatureDetails> GetAsync(int accountId, int id, CancellationToken ct = default) =>
        await DetailsAsync(await LoadAsync(accountId, id, tracking: false, ct), ct);

    public async Task<SignatureDetails> CreateAsync(int accountId, SignatureRequest request, CancellationToken ct = default)
    {
        var email = Address(request.FromEmail, "FromEmail")
            ?? throw new MailroomException(PostmarkErrors.SenderSignatureFieldMissing, "The 'FromEmail' field is required.");
        var domain = EmailAddress.DomainOf(email);
        email = email[..email.LastIndexOf('@')] + "@" + domain;
        var name = DisplayName(request.Name);
        if (FreeMailDomains.Contains(domain))
            throw IdentityRules.PublicDomain(domain);
        var normalized = email.ToLowerInvariant();
        var signature = new SenderSignature
        {
            AccountId = accountId,
            EmailAddress = email,
            NormalizedEmail = normalized,
            Domain = domain,
            Name = name,
            ReplyToEmail = Address(request.ReplyToEmail, "ReplyToEmail") ?? "",
            ReturnPathDomain = string.IsNullOrWhiteSpace(request.ReturnPathDomain) ? "" : IdentityRules.ReturnPathDomain(request.ReturnPathDomain, domain),
            ConfirmationPersonalNote = Note(request.ConfirmationPersonalNote) ?? "",
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        if (await db.SenderSignatures.AnyAsync(s => s.AccountId == accountId && s.NormalizedEmail == normalized, ct))
            throw Exists(email);
        var confirmation = await PrepareConfirmationAsync(signature, ct);
        db.SenderSignatures.Add(signature);
        try
        {
            // One commit: the signature, its link and the email that carries it.
            queue.AddTo(db, confirmation);
            await db.SaveChangesAsync(ct);
            queue.Committed();
        }
        catch (DbUpdateException e) when (UniqueIndex.IsViolation(e))
        {
            throw Exists(email);
        }
        return await DetailsAsync(signature, ct);
    }

    /// <summary><c>Name</c> is required; other fields: <c>null</c> leaves them, "" clears them. A new Return-Path
    /// domain is unverified until checked.</summary>
    public async Task<SignatureDetails> EditAsync(int accountId, int id, SignatureRequest request, CancellationToken ct = default)
    {
        var signature = await LoadAsync(accountId, id, tracking: true, ct);
        signature.Name = DisplayName(request.Name);
        if (request.ReplyToEmail is not null)
            signature.ReplyToEmail = Address(request.ReplyToEmail, "ReplyToEmail") ?? "";
        if (request.ReturnPathDomain is not null)
        {
            var returnPath = request.ReturnPathDomain.Trim().Length == 0 ? "" : IdentityRules.ReturnPathDomain(request.ReturnPathDomain, signature.Domain);
            if (returnPath != signature.ReturnPathDomain)
            {
                signature.ReturnPathDomain = returnPath;
                signature.ReturnPathVerified = false;
                signature.ReturnPathCheckedAt = null;
                signature.ReturnPathProblem = "";
                signature.ReturnPathLostAt = null;
            }
        }
        if (request.ConfirmationPersonalNote is not null)
            signature.ConfirmationPersonalNote = Note(request.ConfirmationPersonalNote) ?? "";
        await db.SaveChangesAsync(ct);
        return await DetailsAsync(signature, ct);
    }

    /// <summary>Deletes the signature (and its links); returns its address.</summary>
    public async Task<string> DeleteAsync(int accountId, int id, CancellationToken ct = default)
    {
        var signature = await LoadAsync(accountId, id, tracking: true, ct);
        db.SenderSignatures.Remove(signature);
        await db.SaveChangesAsync(ct);
        return signature.EmailAddress;
    }

    /// <summary>Sends a new link; the links sent before stop working. 506 once confirmed. Returns the address.</summary>
    public async Task<string> ResendAsync(int accountId, int id, CancellationToken ct = default)
    {
        var signature = await LoadAsync(accountId, id, tracking: true, ct);
        if (signature.Confirmed)
            throw new MailroomException(PostmarkErrors.SenderSignatureAlreadyConfirmed, $"The sender signature {signature.EmailAddress} has already been confirmed.");
        var confirmation = await PrepareConfirmationAsync(signature, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.SenderConfirmations
            .Where(c => c.SignatureId == signature.Id && c.UsedAt == null && c.SupersededAt == null)
            .ForEachAsync(c => c.SupersededAt = now, ct);
        queue.AddTo(db, confirmation);
        await db.SaveChangesAsync(ct);
        queue.Committed();
        return signature.EmailAddress;
    }

    /// <summary>
    /// Deprecated by Postmark, kept for old clients: re-reads the signature's DNS. <c>SPFVerified</c> from the
    /// domain's SPF record, and, as signatures have no verifyReturnPath call, the CNAME of a custom Return-Path.
    /// </summary>
    public async Task<SignatureDetails> VerifySpfAsync(int accountId, int id, CancellationToken ct = default)
    {
        var signature = await LoadAsync(accountId, id, tracking: true, ct);
        var spf = await checks.SpfIncludesAsync(signature.Domain, platform.SpfIncludeHost, ct);
        if (spf.Verdict != CheckVerdict.Unknown)
            signature.SpfVerified = spf.Passed;
        if (signature.ReturnPathDomain.Length > 0)
            await CheckReturnPathAsync(signature, ct);
        await db.SaveChangesAsync(ct);
        return await DetailsAsync(signature, ct);
    }

    /// <summary>
    /// Deprecated by Postmark: DKIM now belongs to domains. Rotates the key of the account's domain of this
    /// signature (505 if a rotation is pending); 508 when the account has no such domain, so no key to renew.
    /// </summary>
    public async Task<string> RequestNewDkimAsync(int accountId, int id, CancellationToken ct = default)
    {
        var signature = await LoadAsync(accountId, id, tracking: false, ct);
        var domainId = await db.Domains.Where(d => d.AccountId == accountId && d.Name == signature.Domain).Select(d => (int?)d.Id).FirstOrDefaultAsync(ct)
            ?? throw new MailroomException(PostmarkErrors.DkimNotRenewable, $"There is no DKIM key to renew for {signature.Domain}: add the domain (POST /domains) to get one.");
        await domains.RotateDkimAsync(accountId, domainId, ct);
        return $"A new DKIM key was requested for {signature.Domain}; publish it and verify the domain to start using it.";
    }

    /// <summary>Handles a click on a confirmation link (no account token: the token is the proof).</summary>
    public async Task<ConfirmationResult> ConfirmAsync(string token, CancellationToken ct = default)
    {
        if (token.Length is 0 or > 100)
            return new ConfirmationResult(ConfirmationOutcome.Unknown, "");
        var hash = Secrets.Hash(token);
        var confirmation = await db.SenderConfirmations.FirstOrDefaultAsync(c => c.TokenHash == hash, ct);
        if (confirmation is null)
            return new ConfirmationResult(ConfirmationOutcome.Unknown, "");
        var signature = await db.SenderSignatures.FirstAsync(s => s.Id == confirmation.SignatureId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var outcome =
            confirmation.UsedAt is not null ? ConfirmationOutcome.AlreadyUsed
            : confirmation.SupersededAt is not null ? ConfirmationOutcome.Superseded
            : now >= confirmation.ExpiresAt ? ConfirmationOutcome.Expired
            : ConfirmationOutcome.Confirmed;
        if (outcome == ConfirmationOutcome.Confirmed)
        {
            confirmation.UsedAt = now;
            if (!signature.Confirmed)
            {
                signature.Confirmed = true;
                signature.ConfirmedAt = now;
            }
            await db.SaveChangesAsync(ct);
        }
        return new ConfirmationResult(outcome, signature.EmailAddress);
    }

    /// <summary>The background re-check of verified custom Return-Path CNAMEs. Returns how many were checked.</summary>
    public async Task<int> RecheckAsync(CancellationToken ct = default)
    {
        var checkedCount = 0;
        var after = 0;
        while (true)
        {
            var batch = await db.SenderSignatures.Where(s => s.Id > after && s.ReturnPathVerified).OrderBy(s => s.Id).Take(100).ToListAsync(ct);
            if (batch.Count == 0)
                return checkedCount;
            foreach (var signature in batch)
            {
                await CheckReturnPathAsync(signature, ct);
                checkedCount++;
            }
            await db.SaveChangesAsync(ct);
            after = batch[^1].Id;
            db.ChangeTracker.Clear();
        }
    }

    private async Task CheckReturnPathAsync(SenderSignature signature, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var result = await checks.CnameAsync(signature.ReturnPathDomain, platform.ReturnPathHost, ct);
        signature.ReturnPathCheckedAt = now;
        (signature.ReturnPathVerified, signature.ReturnPathProblem, signature.ReturnPathLostAt) =
            VerificationState.Apply(result, signature.ReturnPathVerified, signature.ReturnPathLostAt, now);
    }

    /// <summary>
    /// A new link for <paramref name="signature"/> (added to it) and the email carrying it. The token is 256
    /// random bits shown only in the email; the database keeps its SHA-256. The email is signed by Preparation,
    /// with the platform key, like all the platform's own mail.
    /// </summary>
    private async Task<QueuedMessage> PrepareConfirmationAsync(SenderSignature signature, CancellationToken ct)
    {
        var accountName = await db.Accounts.Where(a => a.Id == signature.AccountId).Select(a => a.Name).FirstAsync(ct);
        var now = clock.GetUtcNow();
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        var confirmation = new SenderConfirmation
        {
            TokenHash = Secrets.Hash(token),
            CreatedAt = now.UtcDateTime,
            ExpiresAt = now.UtcDateTime + platform.SenderConfirmationLifetime,
        };
        signature.Confirmations.Add(confirmation);
        var link = $"{platform.PublicUrl.TrimEnd('/')}/senders/confirm/{token}";
        return SenderConfirmationEmail.Compose(signature, accountName, link, confirmation.ExpiresAt, platform, now);
    }

    private async Task<SignatureDetails> DetailsAsync(SenderSignature s, CancellationToken ct)
    {
        // A signature's DKIM is its domain's: shown when the account has that domain (verified or still pending).
        var domain = await domains.FindAsync(s.AccountId, s.Domain, ct);
        var dkim = domain is null ? new DomainDetails() : domains.ToDetails(domain);
        return new SignatureDetails(dkim)
        {
            ID = s.Id,
            Name = s.Name,
            Domain = s.Domain,
            EmailAddress = s.EmailAddress,
            ReplyToEmailAddress = s.ReplyToEmail,
            Confirmed = s.Confirmed,
            ConfirmationPersonalNote = s.ConfirmationPersonalNote,
            SPFVerified = s.SpfVerified,
            SPFHost = s.Domain,
            SPFTextValue = platform.CustomerSpfRecord,
            ReturnPathDomain = s.ReturnPathDomain,
            ReturnPathDomainVerified = s.ReturnPathVerified,
            ReturnPathDomainCNAMEValue = platform.ReturnPathHost,
        };
    }

    private async Task<SenderSignature> LoadAsync(int accountId, int id, bool tracking, CancellationToken ct)
    {
        var q = tracking ? db.SenderSignatures : db.SenderSignatures.AsNoTracking();
        return await q.FirstOrDefaultAsync(s => s.Id == id && s.AccountId == accountId, ct)
            ?? throw MailroomException.NotFound(PostmarkErrors.SenderSignatureIdNotFound, $"Sender signature '{id}' was not found.");
    }

    /// <summary>A bare address, or null when absent or blank; 522 when malformed.</summary>
    private static string? Address(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        var address = value.Trim();
        if (!EmailAddress.IsValid(address))
            throw new MailroomException(PostmarkErrors.InvalidAddressOrDomain, $"'{field}' is not a valid email address: '{address}'.");
        return address;
    }

    private static string DisplayName(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new MailroomException(PostmarkErrors.SenderSignatureFieldMissing, "The 'Name' field is required.");
        var name = value.Trim();
        if (name.Length > 255)
            throw new MailroomException(PostmarkErrors.SenderSignatureFieldTooLong, "'Name' must be at most 255 characters.");
        if (name.AsSpan().IndexOfAny('\r', '\n') >= 0)
            throw new MailroomException(PostmarkErrors.InvalidAddressOrDomain, "'Name' must not contain line breaks.");
        return name;
    }

    private static string? Note(string? value)
    {
        if (value is null)
            return null;
        var note = value.Trim();
        return note.Length <= 400 ? note : throw new MailroomException(PostmarkErrors.SenderSignatureFieldTooLong, "'ConfirmationPersonalNote' must be at most 400 characters.");
    }

    private static MailroomException Exists(string email) =>
        new(PostmarkErrors.SenderSignatureExists, $"A sender signature for {email} already exists on this account.");

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
