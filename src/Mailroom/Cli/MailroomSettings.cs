using System.Text.Json;
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
    /// <summary>File holding the master key (base64); null = master.key in the data folder.</summary>
    public string? MasterKeyFile { get; init; }
    /// <summary>The master key itself (base64), from the environment; wins over <see cref="MasterKeyFile"/>.</summary>
    public string? MasterKey { get; init; }
    public string Http { get; init; } = "http://127.0.0.1:5080";
    public string? PublicUrl { get; init; }
    /// <summary>Base of tracking URLs; null = the public URL.</summary>
    public string? TrackingUrl { get; init; }
    /// <summary>MaxMind City database for the Geo of opens and clicks; null = none.</summary>
    public string? GeoIpDatabase { get; init; }
    /// <summary>Measure read time by streaming the open image (see <c>Mail/Tracking/ReadTime</c>).</summary>
    public bool TrackReadTime { get; init; }
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
    /// <summary>Webhooks may reach loopback and private addresses (single-tenant installs, tests).</summary>
    public bool AllowPrivateWebhooks { get; init; }
    /// <summary>TCP_NODELAY on accepted SMTP connections; off only to measure what it buys (bench/smtp).</summary>
    public bool SmtpTcpNoDelay { get; init; } = true;
    /// <summary>Benchmarks only: a server API token that SMTP clients on 127.0.0.0/8 send as without AUTH
    /// (for load tools that cannot AUTH, such as Postfix's smtp-source). Null (the default): AUTH always.</summary>
    public string? SmtpLoopbackToken { get; init; }

    /// <summary>Prometheus scraping: "off", "on" (the HTTP port) or IP:PORT (a port of its own).</summary>
    public string Metrics { get; init; } = "off";
    /// <summary>SpamAssassin spamd IP:PORT that scores inbound mail; null = no spam check.</summary>
    public string? Spamd { get; init; }
    /// <summary>OTLP collector for traces; null = no tracing.</summary>
    public string? OtlpEndpoint { get; init; }
    /// <summary>Console log format: text or json.</summary>
    public string LogFormat { get; init; } = "text";

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

    /// <summary>The master key of the Data Protection key ring (see <see cref="Mailroom.Core.MasterKey"/>).</summary>
    public Mailroom.Core.MasterKey LoadMasterKey() => MasterKey is { } inline
        ? Mailroom.Core.MasterKey.FromBase64(inline, "MAILROOM_MASTER_KEY")
        : Mailroom.Core.MasterKey.FromFile(MasterKeyFile ?? Path.Combine(Path.GetFullPath(DataDirectory), "master.key"), out _);

    public DatabaseSettings DatabaseSettings => new(Path.GetFullPath(DataDirectory), Database);

    public PlatformSettings Platform => new()
    {
        PublicUrl = PublicUrl ?? Http.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"),
        InboundHost = InboundHost,
        MessageRetention = TimeSpan.FromDays(RetentionDays),
        PlatformDomain = PlatformDomain,
        SenderConfirmationLifetime = SenderConfirmationLifetime,
    };

    public Mailroom.Core.Tracking.TrackingOptions Tracking => new()
    {
        BaseUrl = TrackingUrl ?? Platform.PublicUrl,
        GeoIpDatabase = GeoIpDatabase,
        ReadTime = TrackReadTime,
    };

    /// <summary>The resolver the <c>Dns</c> setting names, or null for the system's.</summary>
    public System.Net.IPEndPoint? DnsServer => Dns is null ? null : Mailroom.Core.Identities.DnsLookup.ParseServer(Dns);

    public static MailroomSettings Resolve(IReadOnlyDictionary<string, string?> fromCommandLine, string? configPath,
        Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        configPath ??= environment("MAILROOM_CONFIG");
        var file = LoadFile(configPath);
        string? Get(string key)
        {
            var env = SettingDescriptors.Get(key).Env;
            return fromCommandLine.TryGetValue(key, out var v) && !string.IsNullOrEmpty(v) ? v
                : !string.IsNullOrEmpty(environment(env)) ? environment(env)
                : file.TryGetValue(key, out var f) && !string.IsNullOrEmpty(f) ? f
                : null;
        }
        var defaults = new MailroomSettings();
        return new MailroomSettings
        {
            DataDirectory = Get("Data") ?? defaults.DataDirectory,
            Database = Get("Database"),
            MasterKeyFile = Get("MasterKeyFile"),
            MasterKey = Get("MasterKey"),
            Http = Get("Http") ?? defaults.Http,
            PublicUrl = Get("PublicUrl"),
            TrackingUrl = Get("TrackingUrl") is { } tracking
                ? Uri.TryCreate(tracking.Trim(), UriKind.Absolute, out var tu) && tu.Scheme is "http" or "https" ? tracking.Trim()
                    : throw new ArgumentException($"TrackingUrl: '{tracking}' is not an http(s) URL.")
                : null,
            GeoIpDatabase = Get("GeoIpDatabase") is { } geoIp
                ? File.Exists(geoIp) ? geoIp : throw new ArgumentException($"GeoIpDatabase: '{geoIp}' does not exist.")
                : null,
            TrackReadTime = Get("TrackReadTime") is { } readTime ? Flag(readTime, "TrackReadTime") : defaults.TrackReadTime,
            InboundHost = Get("InboundHost") ?? defaults.InboundHost,
            DeliveryPort = Integer(Get("DeliveryPort"), "DeliveryPort", 1, 65535) ?? defaults.DeliveryPort,
            Relay = Get("Relay"),
            RelayUsername = Get("RelayUsername"),
            RelayPassword = Get("RelayPassword"),
            HeloName = Get("HeloName"),
            Roles = RolesValue(Get("Roles")) ?? defaults.Roles,
            Mx = Get("Mx"),
            Breaker = new Mailroom.Core.Events.StreamBreakerOptions
            {
                HardBounceRate = (Number(Get("BreakerHardBouncePercent"), "BreakerHardBouncePercent") ?? 10) / 100,
                ComplaintRate = (Number(Get("BreakerComplaintPercent"), "BreakerComplaintPercent") ?? 0.1) / 100,
                MinimumSample = (int)(Number(Get("BreakerMinimumSample"), "BreakerMinimumSample") ?? 100),
            },
            RetentionDays = Integer(Get("RetentionDays"), "RetentionDays", 1, 3650) ?? defaults.RetentionDays,
            PlatformDomain = PlatformDomainValue(Get("PlatformDomain")),
            Dns = DnsValue(Get("Dns")),
            SenderConfirmationLifetime = Hours(Get("SenderConfirmationHours"), "SenderConfirmationHours") ?? defaults.SenderConfirmationLifetime,
            DnsRecheckInterval = Hours(Get("DnsRecheckHours"), "DnsRecheckHours") ?? defaults.DnsRecheckInterval,
            Smtp = Get("Smtp") ?? defaults.Smtp,
            SmtpCertificate = Get("SmtpCertificate"),
            SmtpCertificatePassword = Get("SmtpCertificatePassword"),
            SmtpAllowPlainAuth = Get("SmtpAllowPlainAuth") is { } plain
                ? Flag(plain, "SmtpAllowPlainAuth") : defaults.SmtpAllowPlainAuth,
            SmtpLoopbackToken = Get("SmtpLoopbackToken"),
            Metrics = MetricsValue(Get("Metrics")) ?? defaults.Metrics,
            Spamd = Get("Spamd") is { } spamd
                ? System.Net.IPEndPoint.TryParse(spamd.Trim(), out var spamdEp) && spamdEp.Port > 0 ? spamd.Trim()
                    : throw new ArgumentException($"Spamd: '{spamd}' is not IP:PORT.")
                : null,
            OtlpEndpoint = Get("OtlpEndpoint") is { } otlp
                ? Uri.TryCreate(otlp.Trim(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? otlp.Trim()
                    : throw new ArgumentException($"OtlpEndpoint: '{otlp}' is not an http(s) URL.")
                : null,
            LogFormat = Get("LogFormat")?.Trim().ToLowerInvariant() switch
            {
                null => defaults.LogFormat,
                var f when f is "text" or "json" => f,
                var other => throw new ArgumentException($"LogFormat: '{other}' is not text or json."),
            },
            AllowPrivateWebhooks = Get("AllowPrivateWebhooks") is { } privateHooks
                ? Flag(privateHooks, "AllowPrivateWebhooks") : defaults.AllowPrivateWebhooks,
            SmtpTcpNoDelay = Get("SmtpTcpNoDelay") is { } noDelay
                ? Flag(noDelay, "SmtpTcpNoDelay") : defaults.SmtpTcpNoDelay,
        };
    }

    /// <summary>The roles a process can run (<c>all</c> is every one of them).</summary>
    public static readonly IReadOnlyList<string> KnownRoles = ["api", "smtp", "delivery", "mx"];

    private static string? RolesValue(string? value)
    {
        if (value is null)
            return null;
        var roles = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (roles.Length == 0)
            throw new ArgumentException("Roles: name at least one role (all, or some of " + string.Join(", ", KnownRoles) + ").");
        foreach (var role in roles)
            if (!role.Equals("all", StringComparison.OrdinalIgnoreCase) && !KnownRoles.Contains(role, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"Roles: '{role}' is not a role; the roles are all, {string.Join(", ", KnownRoles)}.");
        return value.Trim();
    }

    private static string? MetricsValue(string? value)
    {
        if (value is null)
            return null;
        var v = value.Trim().ToLowerInvariant();
        if (v is "off" or "on")
            return v;
        if (System.Net.IPEndPoint.TryParse(v, out var ep) && ep.Port > 0)
            return v;
        throw new ArgumentException($"Metrics: '{value}' is not off, on or IP:PORT.");
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

    private static int? Integer(string? value, string key, int min, int max)
    {
        if (value is null)
            return null;
        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{key}: '{value}' is not a whole number from {min} to {max}.");
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
