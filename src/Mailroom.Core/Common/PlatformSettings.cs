namespace Mailroom.Core;

/// <summary>Install-wide facts the API shows to customers.</summary>
public sealed record PlatformSettings
{
    /// <summary>Base URL of this install's web UI and links (ServerLink, confirmation links).</summary>
    public string PublicUrl { get; init; } = "http://127.0.0.1:5080";
    /// <summary>Host of the inbound addresses: <c>&lt;InboundHash&gt;@&lt;InboundHost&gt;</c>.</summary>
    public string InboundHost { get; init; } = "inbound.mailroom.localhost";
    /// <summary>How long an archived stream is kept before it is purged (Postmark: 45 days).</summary>
    public TimeSpan ArchivedStreamRetention { get; init; } = TimeSpan.FromDays(45);
    /// <summary>How long sent messages (content, events) are kept (Postmark: 45 days).</summary>
    public TimeSpan MessageRetention { get; init; } = TimeSpan.FromDays(45);
    /// <summary>Most streams one server may hold, defaults included.</summary>
    public int MaxStreamsPerServer { get; init; } = 30;

    /// <summary>
    /// The platform's own authenticated mail domain (lower case), or null when none is configured. Every account may
    /// send From any address of it; its DKIM key signs mail whose From domain has no verified key of its own.
    /// </summary>
    public string? PlatformDomain { get; init; }
    /// <summary>How long an emailed sender-signature confirmation link stays valid.</summary>
    public TimeSpan SenderConfirmationLifetime { get; init; } = TimeSpan.FromHours(48);
    /// <summary>
    /// How long after a DKIM rotation the replaced key's TXT record must stay in DNS before
    /// <c>SafeToRemoveRevokedKeyFromDNS</c> turns true: mail signed with the old key just before the switch may sit
    /// in queues for days (RFC 5321 §4.5.4.1 suggests retrying for 4–5 days), and its verifiers still need the key.
    /// </summary>
    public TimeSpan RevokedDkimKeyGracePeriod { get; init; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The domain the platform's own mail (confirmations) comes from and its return-path and SPF hosts are named under:
    /// the platform domain; without one, the host of the public URL when that is a domain name, else
    /// <see cref="LocalMailDomain"/> (an IP address or a single label such as <c>localhost</c> cannot carry those names).
    /// </summary>
    public string MailDomain => PlatformDomain ?? PublicHostDomain ?? LocalMailDomain;

    /// <summary>The mail domain of an install without a platform domain or a public domain name: a name under the
    /// special-use <c>localhost</c> TLD (RFC 6761 §6.3), which no one else can own.</summary>
    public const string LocalMailDomain = "mailroom.localhost";

    private string? PublicHostDomain
    {
        get
        {
            var host = new Uri(PublicUrl).Host.ToLowerInvariant();
            return System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _) || !host.Contains('.') ? null : host;
        }
    }

    /// <summary>
    /// Envelope sender (RFC 5321 MAIL FROM) domain of mail without a verified custom Return-Path, and the CNAME
    /// target of customers' Return-Path domains (<c>ReturnPathDomainCNAMEValue</c>). Bounces come back to it.
    /// </summary>
    public string ReturnPathHost => "pm-bounces." + MailDomain;

    /// <summary>The host customers name in their SPF record (<c>include:</c>, RFC 7208 §5.2).</summary>
    public string SpfIncludeHost => "spf." + MailDomain;

    /// <summary>The SPF record suggested to customers (<c>SPFTextValue</c>).</summary>
    public string CustomerSpfRecord => $"v=spf1 a mx include:{SpfIncludeHost} ~all";
}
