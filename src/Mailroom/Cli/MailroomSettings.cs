using System.Text.Json;
using Mailroom.Core;
using Mailroom.Core.Storage;

namespace Mailroom.Cli;

/// <summary>
/// Settings of one run. Each comes, first found wins, from the command line, the environment
/// (<c>MAILROOM_*</c>), the config file (<c>--config</c>, <c>MAILROOM_CONFIG</c>, else <c>mailroom.json</c> in the
/// working folder if present), then the default.
/// </summary>
public sealed record MailroomSettings
{
    public string DataDirectory { get; init; } = "./data";
    public string? Database { get; init; }
    public string Http { get; init; } = "http://127.0.0.1:5080";
    public string? PublicUrl { get; init; }
    public string InboundHost { get; init; } = "inbound.mailroom.localhost";
    /// <summary>Port of remote MX hosts (25; tests use a loopback sink).</summary>
    public int DeliveryPort { get; init; } = 25;
    /// <summary>Smart host HOST:PORT that takes all outbound mail instead of MX hosts.</summary>
    public string? Relay { get; init; }
    public string? RelayUsername { get; init; }
    public string? RelayPassword { get; init; }
    /// <summary>Name Mailroom gives in EHLO.</summary>
    public string? HeloName { get; init; }
    /// <summary>Days sent messages are kept before they are purged.</summary>
    public int RetentionDays { get; init; } = 45;
    /// <summary>Address (IP:PORT) of the inbound MX listener that takes bounces and complaints; null = off.</summary>
    public string? Mx { get; init; }
    /// <summary>When the bounce/complaint breaker pauses a stream (config keys BreakerHardBouncePercent,
    /// BreakerComplaintPercent, BreakerMinimumSample; env MAILROOM_BREAKER_*).</summary>
    public Mailroom.Core.Events.StreamBreakerOptions Breaker { get; init; } = new();
    /// <summary>Comma-separated roles this process runs: api, delivery, mx (default: all).</summary>
    public string Roles { get; init; } = "all";
    /// <summary>SMTP submission listener ADDRESS:PORT (role smtp).</summary>
    public string Smtp { get; init; } = "127.0.0.1:2525";
    /// <summary>STARTTLS certificate: PEM (certificate and key) or PFX; null = a self-signed one in the data folder.</summary>
    public string? SmtpCertificate { get; init; }
    public string? SmtpCertificatePassword { get; init; }
    /// <summary>Offer and accept AUTH before STARTTLS (off: 538 5.7.11 until the connection is encrypted).</summary>
    public bool SmtpAllowPlainAuth { get; init; }
    /// <summary>TCP_NODELAY on accepted SMTP connections; off only to measure what it buys (bench/smtp).</summary>
    public bool SmtpTcpNoDelay { get; init; } = true;
    /// <summary>Benchmarks only: a server API token that SMTP clients on 127.0.0.0/8 send as without AUTH
    /// (for load tools that cannot AUTH, such as Postfix's smtp-source). Null (the default): AUTH always.</summary>
    public string? SmtpLoopbackToken { get; init; }

    public bool HasRole(string role) =>
        Roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(r => r.Equals("all", StringComparison.OrdinalIgnoreCase) || r.Equals(role, StringComparison.OrdinalIgnoreCase));
    /// <summary>The platform's own mail domain (lower case, no trailing dot), or null.</summary>
    public string? PlatformDomain { get; init; }
    /// <summary>DNS resolver as IP:PORT; null for the system's.</summary>
    public string? Dns { get; init; }
    public TimeSpan SenderConfirmationLifetime { get; init; } = TimeSpan.FromHours(48);
    public TimeSpan DnsRecheckInterval { get; init; } = TimeSpan.FromHours(24);
    /// <summary>How long one DNS query may take (tried twice). Not a config key: tests shorten it.</summary>
    public TimeSpan DnsTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public DatabaseSettings DatabaseSettings => new(Path.GetFullPath(DataDirectory), Database);

    public PlatformSettings Platform => new()
    {
        PublicUrl = PublicUrl ?? Http.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"),
        InboundHost = InboundHost,
        MessageRetention = TimeSpan.FromDays(RetentionDays),
        PlatformDomain = PlatformDomain,
        SenderConfirmationLifetime = SenderConfirmationLifetime,
    };

    /// <summary>The resolver the <c>Dns</c> setting names, or null for the system's.</summary>
    public System.Net.IPEndPoint? DnsServer => Dns is null ? null : Mailroom.Core.Identities.DnsLookup.ParseServer(Dns);

    /// <summary>The table the README's configuration section shows: option, environment variable, file key, default.</summary>
    public static readonly IReadOnlyList<(string Option, string Env, string Key, string Default, string Meaning)> Table =
    [
        ("--data", "MAILROOM_DATA", "Data", "./data", "folder for the SQLite file, Data Protection keys and generated secrets"),
        ("--database", "MAILROOM_DATABASE", "Database", "(none: SQLite)", "PostgreSQL connection string (postgres://user:pass@host:port/db or key=value)"),
        ("--http", "MAILROOM_HTTP", "Http", "http://127.0.0.1:5080", "address the HTTP API listens on"),
        ("--public-url", "MAILROOM_PUBLIC_URL", "PublicUrl", "the --http address", "base URL used in links shown to customers"),
        ("--inbound-host", "MAILROOM_INBOUND_HOST", "InboundHost", "inbound.mailroom.localhost", "host of servers' inbound addresses"),
        ("--delivery-port", "MAILROOM_DELIVERY_PORT", "DeliveryPort", "25", "port of remote MX hosts"),
        ("--relay", "MAILROOM_RELAY", "Relay", "(none)", "smart host HOST:PORT for all outbound mail"),
        ("--relay-username", "MAILROOM_RELAY_USERNAME", "RelayUsername", "(none)", "AUTH user name at the smart host"),
        ("--relay-password", "MAILROOM_RELAY_PASSWORD", "RelayPassword", "(none)", "AUTH password at the smart host"),
        ("--helo", "MAILROOM_HELO", "HeloName", "machine name", "name given in EHLO"),
        ("--retention-days", "MAILROOM_RETENTION_DAYS", "RetentionDays", "45", "days message content and events are kept"),
        ("--roles", "MAILROOM_ROLES", "Roles", "all", "roles this process runs: api, smtp, delivery, mx"),
        ("--smtp", "MAILROOM_SMTP", "Smtp", "127.0.0.1:2525", "ADDRESS:PORT of SMTP submission (role smtp)"),
        ("--smtp-certificate", "MAILROOM_SMTP_CERTIFICATE", "SmtpCertificate", "(self-signed, made in the data folder)", "STARTTLS certificate: PEM with certificate and key, or PFX"),
        ("--smtp-certificate-password", "MAILROOM_SMTP_CERTIFICATE_PASSWORD", "SmtpCertificatePassword", "(none)", "password of the certificate file"),
        ("--smtp-allow-plain-auth", "MAILROOM_SMTP_ALLOW_PLAIN_AUTH", "SmtpAllowPlainAuth", "false", "accept AUTH before STARTTLS (tokens then cross the network in clear)"),
        ("", "MAILROOM_SMTP_TCP_NODELAY", "SmtpTcpNoDelay", "true", "TCP_NODELAY on SMTP connections; false only to measure its effect (bench/smtp)"),
        ("", "MAILROOM_SMTP_LOOPBACK_TOKEN", "SmtpLoopbackToken", "(none)", "benchmarks only: clients on 127.0.0.0/8 that skip AUTH send as this server token (bench/smtp)"),
                ("--mx", "MAILROOM_MX", "Mx", "(off)", "IP:PORT of the inbound MX listener for bounces and complaints (role mx)"),
        ("", "MAILROOM_BREAKER_HARD_BOUNCE_PERCENT", "BreakerHardBouncePercent", "10", "pause a stream when more of its last 1,000 deliveries hard-bounced"),
        ("", "MAILROOM_BREAKER_COMPLAINT_PERCENT", "BreakerComplaintPercent", "0.1", "pause a stream when more of its last 1,000 deliveries drew a spam complaint"),
        ("", "MAILROOM_BREAKER_MINIMUM_SAMPLE", "BreakerMinimumSample", "100", "finished deliveries a stream needs before the breaker judges it"),
        ("--platform-domain", "MAILROOM_PLATFORM_DOMAIN", "PlatformDomain", "(none)", "the platform's own mail domain: any account may send From it; `mailroom dns` prints its records"),
        ("--dns", "MAILROOM_DNS", "Dns", "(the system's resolver)", "DNS resolver (IP:PORT) for MX lookups and domain verification"),
        ("", "MAILROOM_SENDER_CONFIRMATION_HOURS", "SenderConfirmationHours", "48", "how long a sender-signature confirmation link stays valid"),
        ("", "MAILROOM_DNS_RECHECK_HOURS", "DnsRecheckHours", "24", "how often verified domains' DNS records are checked again"),
    ];

    public static MailroomSettings Resolve(IReadOnlyDictionary<string, string?> fromCommandLine, string? configPath,
        Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        configPath ??= environment("MAILROOM_CONFIG");
        var file = LoadFile(configPath);
        string? Get(string key, string env) =>
            fromCommandLine.TryGetValue(key, out var v) && !string.IsNullOrEmpty(v) ? v
            : !string.IsNullOrEmpty(environment(env)) ? environment(env)
            : file.TryGetValue(key, out var f) && !string.IsNullOrEmpty(f) ? f
            : null;
        var defaults = new MailroomSettings();
        return new MailroomSettings
        {
            DataDirectory = Get("Data", "MAILROOM_DATA") ?? defaults.DataDirectory,
            Database = Get("Database", "MAILROOM_DATABASE"),
            Http = Get("Http", "MAILROOM_HTTP") ?? defaults.Http,
            PublicUrl = Get("PublicUrl", "MAILROOM_PUBLIC_URL"),
            InboundHost = Get("InboundHost", "MAILROOM_INBOUND_HOST") ?? defaults.InboundHost,
            DeliveryPort = Get("DeliveryPort", "MAILROOM_DELIVERY_PORT") is { } port
                ? int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) : defaults.DeliveryPort,
            Relay = Get("Relay", "MAILROOM_RELAY"),
            RelayUsername = Get("RelayUsername", "MAILROOM_RELAY_USERNAME"),
            RelayPassword = Get("RelayPassword", "MAILROOM_RELAY_PASSWORD"),
            HeloName = Get("HeloName", "MAILROOM_HELO"),
            Roles = Get("Roles", "MAILROOM_ROLES") ?? defaults.Roles,
            Mx = Get("Mx", "MAILROOM_MX"),
            Breaker = new Mailroom.Core.Events.StreamBreakerOptions
            {
                HardBounceRate = (Number(Get("BreakerHardBouncePercent", "MAILROOM_BREAKER_HARD_BOUNCE_PERCENT"), "BreakerHardBouncePercent") ?? 10) / 100,
                ComplaintRate = (Number(Get("BreakerComplaintPercent", "MAILROOM_BREAKER_COMPLAINT_PERCENT"), "BreakerComplaintPercent") ?? 0.1) / 100,
                MinimumSample = (int)(Number(Get("BreakerMinimumSample", "MAILROOM_BREAKER_MINIMUM_SAMPLE"), "BreakerMinimumSample") ?? 100),
            },
            RetentionDays = Get("RetentionDays", "MAILROOM_RETENTION_DAYS") is { } days
                ? int.Parse(days, System.Globalization.CultureInfo.InvariantCulture) : defaults.RetentionDays,
            PlatformDomain = PlatformDomainValue(Get("PlatformDomain", "MAILROOM_PLATFORM_DOMAIN")),
            Dns = DnsValue(Get("Dns", "MAILROOM_DNS")),
            SenderConfirmationLifetime = Hours(Get("SenderConfirmationHours", "MAILROOM_SENDER_CONFIRMATION_HOURS"), "SenderConfirmationHours") ?? defaults.SenderConfirmationLifetime,
            DnsRecheckInterval = Hours(Get("DnsRecheckHours", "MAILROOM_DNS_RECHECK_HOURS"), "DnsRecheckHours") ?? defaults.DnsRecheckInterval,
            Smtp = Get("Smtp", "MAILROOM_SMTP") ?? defaults.Smtp,
            SmtpCertificate = Get("SmtpCertificate", "MAILROOM_SMTP_CERTIFICATE"),
            SmtpCertificatePassword = Get("SmtpCertificatePassword", "MAILROOM_SMTP_CERTIFICATE_PASSWORD"),
            SmtpAllowPlainAuth = Get("SmtpAllowPlainAuth", "MAILROOM_SMTP_ALLOW_PLAIN_AUTH") is { } plain
                ? Flag(plain, "SmtpAllowPlainAuth") : defaults.SmtpAllowPlainAuth,
            SmtpLoopbackToken = Get("SmtpLoopbackToken", "MAILROOM_SMTP_LOOPBACK_TOKEN"),
            SmtpTcpNoDelay = Get("SmtpTcpNoDelay", "MAILROOM_SMTP_TCP_NODELAY") is { } noDelay
                ? Flag(noDelay, "SmtpTcpNoDelay") : defaults.SmtpTcpNoDelay,
        };
    }

    private static bool Flag(string value, string key) =>
        bool.TryParse(value.Trim(), out var b) ? b : throw new ArgumentException($"{key}: '{value}' is not true or false.");

    private static string? PlatformDomainValue(string? value)
    {
        if (value is null)
            return null;
        var domain = value.Trim().TrimEnd('.').ToLowerInvariant();
        return Mailroom.Mail.Addresses.EmailAddress.IsValidDomain(domain)
            ? domain
            : throw new ArgumentException($"PlatformDomain: '{value}' is not a domain name.");
    }

    private static string? DnsValue(string? value)
    {
        if (value is null)
            return null;
        try
        {
            Mailroom.Core.Identities.DnsLookup.ParseServer(value);
            return value.Trim();
        }
        catch (FormatException e)
        {
            throw new ArgumentException("Dns: " + e.Message);
        }
    }

    private static double? Number(string? value, string key)
    {
        if (value is null)
            return null;
        return double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ArgumentException($"{key}: '{value}' is not a number.");
    }

    private static TimeSpan? Hours(string? value, string key)
    {
        if (value is null)
            return null;
        return double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var h) && h > 0 && h <= 24 * 365
            ? TimeSpan.FromHours(h)
            : throw new ArgumentException($"{key}: '{value}' is not a number of hours.");
    }

    private static Dictionary<string, string?> LoadFile(string? path)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (path is null)
        {
            if (!File.Exists("mailroom.json"))
                return result;
            path = "mailroom.json";
        }
        if (!File.Exists(path))
            throw new FileNotFoundException($"Config file not found: {path}");
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        foreach (var p in doc.RootElement.EnumerateObject())
            result[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText();
        return result;
    }
}

public static class HostPort
{
    /// <summary>Parses <c>HOST:PORT</c> (IPv6 as <c>[::1]:53</c>).</summary>
    public static (string Host, int Port) Parse(string value, int defaultPort)
    {
        value = value.Trim();
        if (value.StartsWith('['))
        {
            var end = value.IndexOf(']');
            var host = value[1..end];
            return (host, end + 2 < value.Length ? int.Parse(value[(end + 2)..], System.Globalization.CultureInfo.InvariantCulture) : defaultPort);
        }
        var colon = value.LastIndexOf(':');
        return colon < 0 ? (value, defaultPort) : (value[..colon], int.Parse(value[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
