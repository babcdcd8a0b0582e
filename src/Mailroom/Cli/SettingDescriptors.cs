using System.Text;

namespace Mailroom.Cli;

/// <summary>
/// One setting of <c>mailroom</c>: its config-file key, environment variable, command-line option (if it has one),
/// default and meaning. <see cref="SettingDescriptors.All"/> is the one place settings are declared: the command
/// line's options and their help, <see cref="MailroomSettings.Resolve"/> and the README's configuration table are
/// all made from it (a test compares the README with <see cref="SettingDescriptors.ReadmeTable"/>).
/// </summary>
/// <param name="Key">Config-file key, also the key of the command-line dictionary given to <see cref="MailroomSettings.Resolve"/>.</param>
/// <param name="Env">Environment variable.</param>
/// <param name="Option">Command-line option, or null when the setting is read only from the environment or the file.</param>
/// <param name="Placeholder">What the option takes (<c>DIR</c>, <c>URL</c>), or null for a switch.</param>
/// <param name="Default">The default as the README shows it (Markdown).</param>
/// <param name="Meaning">What it does (Markdown: backticks are removed for <c>--help</c>).</param>
public sealed record SettingDescriptor(string Key, string Env, string? Option, string? Placeholder, string Default, string Meaning)
{
    /// <summary>A switch: given alone on the command line it means true.</summary>
    public bool IsFlag => Option is not null && Placeholder is null;

    /// <summary>The option's <c>--help</c> text.</summary>
    public string HelpText => $"{Plain(Meaning)}. Env: {Env}. Default: {Plain(Default)}.";

    /// <summary>The setting's row of the README's configuration table.</summary>
    public string ReadmeRow => Option is null
        ? $"| | `{Env}` | `{Key}` | {Default} | {Meaning} |"
        : $"| `{Option}{(Placeholder is null ? "" : " " + Placeholder)}` | `{Env}` | `{Key}` | {Default} | {Meaning} |";

    private static string Plain(string markdown) => markdown.Replace("`", "", StringComparison.Ordinal);
}

public static class SettingDescriptors
{
    public static readonly IReadOnlyList<SettingDescriptor> All =
    [
        new("Data", "MAILROOM_DATA", "--data", "DIR", "`./data`",
            "the data folder: SQLite file, Data Protection keys (they decrypt stored tokens and DKIM keys: back the folder up), generated certificate"),
        new("MasterKeyFile", "MAILROOM_MASTER_KEY_FILE", "--master-key-file", "FILE", "`master.key` in the data folder (made at first start)",
            "the master key (256 bits, base64) that encrypts the Data Protection key ring; keep it apart from the data folder and its backups"),
        new("MasterKey", "MAILROOM_MASTER_KEY", null, null, "none",
            "the master key itself (base64), instead of a file; takes precedence over `MasterKeyFile`"),
        new("Database", "MAILROOM_DATABASE", "--database", "CONN", "none: SQLite",
            "PostgreSQL connection string, `postgres://user:pass@host:port/db` or `Host=...;Username=...`"),
        new("Http", "MAILROOM_HTTP", "--http", "URL", "`http://127.0.0.1:5080`", "where the HTTP API listens"),
        new("PublicUrl", "MAILROOM_PUBLIC_URL", "--public-url", "URL", "the `--http` URL",
            "base of links shown to customers (`ServerLink`, confirmation links)"),
        new("TrackingUrl", "MAILROOM_TRACKING_URL", "--tracking-url", "URL", "the public URL",
            "base of open-tracking images and click-tracking links put in tracked mail (`/t/o/...`, `/t/c/...` under it); must reach the `api` role"),
        new("GeoIpDatabase", "MAILROOM_GEOIP_DATABASE", "--geoip-database", "FILE", "none: no geography",
            "a MaxMind GeoIP2 or GeoLite2 City database (`.mmdb`) that gives opens and clicks their `Geo`"),
        new("TrackReadTime", "MAILROOM_TRACK_READ_TIME", "--track-read-time", null, "`false`",
            "measure opens' `ReadSeconds`: the open image is streamed a frame a second (up to 21 s) until the mail client closes the message; each reader holds a connection that long"),
        new("InboundHost", "MAILROOM_INBOUND_HOST", "--inbound-host", "HOST", "`inbound.mailroom.localhost`", "host of servers' `InboundAddress`"),
        new("PlatformDomain", "MAILROOM_PLATFORM_DOMAIN", "--platform-domain", "DOMAIN", "none",
            "the platform's own mail domain: every account may send From it (see \"Sender identities\")"),
        new("Dns", "MAILROOM_DNS", "--dns", "IP:PORT", "the system resolver", "DNS resolver for MX lookups and for verifying customers' records"),
        new("SenderConfirmationHours", "MAILROOM_SENDER_CONFIRMATION_HOURS", null, null, "`48`", "how long a sender-signature confirmation link works"),
        new("DnsRecheckHours", "MAILROOM_DNS_RECHECK_HOURS", null, null, "`24`", "how often verified DNS records are checked again"),
        new("Roles", "MAILROOM_ROLES", "--roles", "LIST", "`all`",
            "roles of this process, comma-separated: `api`, `smtp`, `delivery`, `mx`"),
        new("DeliveryPort", "MAILROOM_DELIVERY_PORT", "--delivery-port", "PORT", "`25`", "port of remote MX hosts (tests point it at a loopback sink)"),
        new("Relay", "MAILROOM_RELAY", "--relay", "HOST:PORT", "none",
            "a smart host that takes all outbound mail instead of the recipients' MX hosts"),
        new("RelayUsername", "MAILROOM_RELAY_USERNAME", "--relay-username", "USER", "none", "AUTH user name at the smart host"),
        new("RelayPassword", "MAILROOM_RELAY_PASSWORD", "--relay-password", "PW", "none", "AUTH password at the smart host"),
        new("HeloName", "MAILROOM_HELO", "--helo", "NAME", "the machine name",
            "the name Mailroom gives in EHLO (give it forward and reverse DNS in production)"),
        new("RetentionDays", "MAILROOM_RETENTION_DAYS", "--retention-days", "DAYS", "`45`", "days message content and events are kept"),
        new("Mx", "MAILROOM_MX", "--mx", "IP:PORT", "off", "inbound MX listener for bounces, complaints and auto-replies (role `mx`)"),
        new("BreakerHardBouncePercent", "MAILROOM_BREAKER_HARD_BOUNCE_PERCENT", null, null, "`10`",
            "the breaker pauses a stream when more of its last 1,000 finished deliveries hard-bounced"),
        new("BreakerComplaintPercent", "MAILROOM_BREAKER_COMPLAINT_PERCENT", null, null, "`0.1`", "... or drew a spam complaint"),
        new("BreakerMinimumSample", "MAILROOM_BREAKER_MINIMUM_SAMPLE", null, null, "`100`", "finished deliveries a stream needs before the breaker judges it"),
        new("Smtp", "MAILROOM_SMTP", "--smtp", "ADDR:PORT", "`127.0.0.1:2525`",
            "where SMTP submission listens (role `smtp`); `0.0.0.0:587` for every interface"),
        new("SmtpCertificate", "MAILROOM_SMTP_CERTIFICATE", "--smtp-certificate", "FILE", "self-signed, made in the data folder",
            "STARTTLS certificate: PEM with certificate and private key, or PFX/P12"),
        new("SmtpCertificatePassword", "MAILROOM_SMTP_CERTIFICATE_PASSWORD", "--smtp-certificate-password", "PW", "none",
            "password of that file (encrypted PEM key or PFX)"),
        new("AllowPrivateWebhooks", "MAILROOM_ALLOW_PRIVATE_WEBHOOKS", "--allow-private-webhooks", null, "`false`",
            "let webhooks reach loopback, private, link-local, CGNAT and metadata addresses (refused by default: a customer's URL must not reach the platform's own network)"),
        new("SmtpAllowPlainAuth", "MAILROOM_SMTP_ALLOW_PLAIN_AUTH", "--smtp-allow-plain-auth", null, "`false`",
            "offer and accept AUTH before STARTTLS (the token then crosses the network in clear)"),
        new("SmtpTcpNoDelay", "MAILROOM_SMTP_TCP_NODELAY", null, null, "`true`",
            "TCP_NODELAY on SMTP connections; `false` only to measure what it buys (`bench/smtp`)"),
        new("Metrics", "MAILROOM_METRICS", "--metrics", "MODE", "`off`",
            "Prometheus metrics at `/metrics`: `off`, `on` (on the `--http` port) or `IP:PORT` (a port of its own that serves only `/metrics`)"),
        new("Spamd", "MAILROOM_SPAMD", "--spamd", "IP:PORT", "none",
            "SpamAssassin `spamd` that scores inbound mail (`X-Spam-Status`, `X-Spam-Score`, `X-Spam-Tests` in the payload's `Headers`; a server's `InboundSpamThreshold` blocks at that score); none: no spam check"),
        new("OtlpEndpoint", "MAILROOM_OTLP_ENDPOINT", "--otlp-endpoint", "URL", "none",
            "OpenTelemetry collector (OTLP/gRPC, e.g. `http://127.0.0.1:4317`) that receives traces of each message's path; none: no tracing"),
        new("LogFormat", "MAILROOM_LOG_FORMAT", "--log-format", "FORMAT", "`text`",
            "console log format: `text` (one line per event) or `json` (one JSON object per event)"),
        new("SmtpLoopbackToken", "MAILROOM_SMTP_LOOPBACK_TOKEN", null, null, "none",
            "benchmarks only: clients on 127.0.0.0/8 that skip AUTH send as this server token (for `smtp-source`); never set it in production"),
    ];

    private static readonly Dictionary<string, SettingDescriptor> ByKey = All.ToDictionary(d => d.Key, StringComparer.OrdinalIgnoreCase);

    public static SettingDescriptor Get(string key) =>
        ByKey.TryGetValue(key, out var d) ? d : throw new KeyNotFoundException($"No setting '{key}' is declared in SettingDescriptors.All.");

    /// <summary>The README's configuration table, header included.</summary>
    public static string ReadmeTable()
    {
        var table = new StringBuilder();
        table.Append("| Option | Environment | File key | Default | Meaning |\n|---|---|---|---|---|\n");
        foreach (var d in All)
            table.Append(d.ReadmeRow).Append('\n');
        return table.ToString();
    }
}
