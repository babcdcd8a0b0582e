using Mailroom.Mail.Addresses;

namespace Mailroom.Core.Identities;

/// <summary>Input rules shared by domains and sender signatures, with Postmark's error codes (spec §1.7).</summary>
internal static class IdentityRules
{
    /// <summary>A domain name as <c>POST /domains</c> takes it: lower case, no trailing dot; 514 missing, 515 too
    /// long, 516 malformed, 503 a public mail provider's.</summary>
    public static string DomainName(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new MailroomException(PostmarkErrors.DomainNameRequired, "The 'Name' field is required.");
        var name = value.Trim().TrimEnd('.').ToLowerInvariant();
        if (name.Length > 255)
            throw new MailroomException(PostmarkErrors.DomainNameTooLong, "The domain 'Name' must be at most 255 characters.");
        if (!EmailAddress.IsValidDomain(name))
            throw new MailroomException(PostmarkErrors.InvalidDomainName, $"'{value.Trim()}' is not a valid domain name.");
        if (FreeMailDomains.Contains(name))
            throw PublicDomain(name);
        return name;
    }

    /// <summary>
    /// A custom Return-Path domain: a subdomain of <paramref name="domain"/>, so that the envelope sender
    /// (RFC 5321 §4.1.2 reverse-path) stays within the domain the customer proved, and SPF (RFC 7208 §2.4, checked
    /// on that domain) aligns with the From domain under DMARC's relaxed rule (RFC 7489 §3.1.2). 522 otherwise.
    /// </summary>
    public static string ReturnPathDomain(string value, string domain)
    {
        var host = value.Trim().TrimEnd('.').ToLowerInvariant();
        if (!EmailAddress.IsValidDomain(host))
            throw new MailroomException(PostmarkErrors.InvalidAddressOrDomain, $"'ReturnPathDomain' '{value.Trim()}' is not a valid domain name.");
        if (!host.EndsWith("." + domain, StringComparison.Ordinal))
            throw new MailroomException(PostmarkErrors.InvalidAddressOrDomain, $"'ReturnPathDomain' must be a subdomain of {domain}, e.g. pm-bounces.{domain}.");
        return host;
    }

    public static MailroomException PublicDomain(string domain) =>
        new(PostmarkErrors.PublicDomainRefused, $"You cannot use a public domain ({domain}): its owner cannot publish DNS records for you. Use an address at a domain you control.");
}
