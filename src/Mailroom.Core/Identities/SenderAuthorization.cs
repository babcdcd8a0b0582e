using Mailroom.Mail.Dkim;
using Mailroom.Core.Storage;
using Mailroom.Mail.Addresses;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace Mailroom.Core.Identities;

/// <summary>Which identity let a From address through. Not persisted.</summary>
public enum SenderIdentity { None, PlatformDomain, Domain, SenderSignature }

/// <summary>
/// The answer for one From address. When allowed: the DKIM material to sign with (null when there is nothing to
/// sign with: no verified domain key and no platform domain) and the domain of the envelope sender (RFC 5321
/// MAIL FROM) to use. When refused: Postmark's ErrorCode (400, 401, or 300 for an unreadable address) and message.
/// </summary>
public sealed record SenderDecision(
    bool Allowed, SenderIdentity Identity, int ErrorCode, string Message, DkimKey? Dkim, string ReturnPathDomain)
{
    public static SenderDecision Refused(int errorCode, string message) => new(false, SenderIdentity.None, errorCode, message, null, "");
}

/// <summary>
/// May this account send From this address, and how is it signed? Called by the sending pipeline for every message
/// (API and SMTP). Reads the account's domains and signatures and the platform key; keeps nothing between calls,
/// so nothing of one account can reach another's answer. The three identities, first match wins:
/// 1. the platform domain (any local part, any account); 2. a domain of the account whose DKIM is verified;
/// 3. a confirmed sender signature of the account for exactly this address.
/// </summary>
public sealed class SenderAuthorization(MailroomDb db, DkimKeyStore keys, PlatformSettings platform)
{
    public async Task<SenderDecision> AuthorizeAsync(int accountId, string fromAddress, CancellationToken ct = default)
    {
        if (!MailboxAddress.TryParse(fromAddress.Trim(), out var mailbox) || !EmailAddress.IsValid(mailbox.Address))
            return SenderDecision.Refused(PostmarkErrors.InvalidEmailRequest, $"Invalid 'From' address: '{fromAddress}'.");
        var address = mailbox.Address;
        var domainName = EmailAddress.DomainOf(address);

        if (platform.PlatformDomain is { } platformDomain && domainName == platformDomain)
            return new SenderDecision(true, SenderIdentity.PlatformDomain, 0, "", await PlatformKeyAsync(ct), platform.ReturnPathHost);

        var domain = await db.Domains.AsNoTracking().Include(d => d.Keys)
            .FirstOrDefaultAsync(d => d.AccountId == accountId && d.Name == domainName, ct);
        // A domain's own key signs only once verified: a pending key's record may not be published yet (§5.3).
        var domainKey = domain is { DkimVerified: true } ? domain.Keys.SingleOrDefault(k => k.State == DkimKeyState.Active) : null;
        var domainReturnPath = domain is { ReturnPathVerified: true } ? domain.ReturnPathDomain : null;
        if (domainKey is not null)
            return new SenderDecision(true, SenderIdentity.Domain, 0, "", keys.SigningKey(domainKey, domainName), domainReturnPath ?? platform.ReturnPathHost);

        var normalized = address.ToLowerInvariant();
        var signature = await db.SenderSignatures.AsNoTracking()
            .FirstOrDefaultAsync(s => s.AccountId == accountId && s.NormalizedEmail == normalized, ct);
        if (signature is null)
            return SenderDecision.Refused(PostmarkErrors.DmarcBadRequest, $"The 'From' address you supplied ({address}) is not a Sender Signature on your account. Please add and confirm this address in order to be able to use it in the 'From' field of your messages.");
        if (!signature.Confirmed)
            return SenderDecision.Refused(PostmarkErrors.SenderSignatureNotConfirmed, $"The 'From' address you supplied ({address}) is a Sender Signature on your account that has not been confirmed yet. Please open the confirmation link we emailed to {address} to use it in the 'From' field of your messages.");
        var returnPath = domainReturnPath ?? (signature.ReturnPathVerified ? signature.ReturnPathDomain : platform.ReturnPathHost);
        return new SenderDecision(true, SenderIdentity.SenderSignature, 0, "", await PlatformKeyAsync(ct), returnPath);
    }

    /// <summary>The platform signs what has no verified key of its own, with d= the platform domain (so DKIM passes,
    /// though it does not align with the From domain for DMARC, RFC 7489 §3.1.1).</summary>
    private async Task<DkimKey?> PlatformKeyAsync(CancellationToken ct) =>
        platform.PlatformDomain is { } d ? keys.SigningKey(await keys.PlatformKeyAsync(ct), d) : null;
}
