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

    public DatabaseSettings DatabaseSettings => new(Path.GetFullPath(DataDirectory), Database);

    public PlatformSettings Platform => new()
    {
        PublicUrl = PublicUrl ?? Http.Replace("0.0.0.0", "127.0.0.1").Replace("[::]", "[::1]"),
        InboundHost = InboundHost,
    };

    /// <summary>The table the README's configuration section shows: option, environment variable, file key, default.</summary>
    public static readonly IReadOnlyList<(string Option, string Env, string Key, string Default, string Meaning)> Table =
    [
        ("--data", "MAILROOM_DATA", "Data", "./data", "folder for the SQLite file, Data Protection keys and generated secrets"),
        ("--database", "MAILROOM_DATABASE", "Database", "(none: SQLite)", "PostgreSQL connection string (postgres://user:pass@host:port/db or key=value)"),
        ("--http", "MAILROOM_HTTP", "Http", "http://127.0.0.1:5080", "address the HTTP API listens on"),
        ("--public-url", "MAILROOM_PUBLIC_URL", "PublicUrl", "the --http address", "base URL used in links shown to customers"),
        ("--inbound-host", "MAILROOM_INBOUND_HOST", "InboundHost", "inbound.mailroom.localhost", "host of servers' inbound addresses"),
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
        };
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
