using System.Text.RegularExpressions;

namespace Mailroom.Mail.Tracking;

/// <summary>Postmark's <c>Platform</c> of an open or click.</summary>
public enum EngagementPlatform { Unknown = 0, Desktop = 1, WebMail = 2, Mobile = 3 }

/// <summary>What a user agent tells about who opened or clicked. Empty strings when unknown.</summary>
/// <param name="Proxy">An image proxy fetched for the reader (Gmail, Yahoo): the OS is the proxy's, not the reader's.</param>
/// <param name="Machine">Never a person: a link scanner, a generic HTTP library, Apple's privacy prefetch.</param>
public sealed record UserAgentFacts(string ClientName, string ClientCompany, string ClientFamily, string OsName, string OsCompany,
    string OsFamily, EngagementPlatform Platform, bool Proxy, bool Machine)
{
    public static readonly UserAgentFacts Unknown = new("", "", "", "", "", "", EngagementPlatform.Unknown, false, false);
}

/// <summary>
/// A small user-agent classifier for opens and clicks. Its rules are data (<c>user-agents.txt</c>, embedded): a client
/// row names the mail client or browser, an OS row the operating system, the first matching row of each kind wins.
/// Pure and thread-safe once built.
/// </summary>
public sealed class UserAgentClassifier
{
    private sealed record Rule(Regex Pattern, string Name, string Company, string Family, EngagementPlatform? Platform, bool Proxy, bool Machine);

    private readonly List<Rule> _clients = [];
    private readonly List<Rule> _systems = [];

    /// <summary>The rules shipped with Mailroom.</summary>
    public static UserAgentClassifier Default { get; } = FromEmbedded();

    /// <summary>Builds a classifier from rule text in the format of <c>user-agents.txt</c>; a malformed row throws, naming its line.</summary>
    public UserAgentClassifier(string rules)
    {
        var number = 0;
        foreach (var raw in rules.Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var f = line.Split('\t');
            if (f.Length != 7)
                throw new FormatException($"user-agent rules line {number}: 7 tab-separated columns expected, found {f.Length}.");
            EngagementPlatform? platform = f[5] == "-" ? null
                : Enum.TryParse<EngagementPlatform>(f[5], out var p) ? p
                : throw new FormatException($"user-agent rules line {number}: unknown platform '{f[5]}'.");
            var flags = f[6] == "-" ? [] : f[6].Split(',', StringSplitOptions.TrimEntries);
            if (flags.Except(["proxy", "machine"]).FirstOrDefault() is { } unknownFlag)
                throw new FormatException($"user-agent rules line {number}: unknown flag '{unknownFlag}'.");
            Regex pattern;
            try
            {
                pattern = new Regex(f[1], RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new FormatException($"user-agent rules line {number}: bad pattern: {e.Message}");
            }
            var rule = new Rule(pattern, f[2], Dash(f[3]), Dash(f[4]), platform, flags.Contains("proxy"), flags.Contains("machine"));
            (f[0] switch
            {
                "client" => _clients,
                "os" => _systems,
                _ => throw new FormatException($"user-agent rules line {number}: kind must be client or os, not '{f[0]}'."),
            }).Add(rule);
        }
    }

    private static string Dash(string s) => s == "-" ? "" : s;

    private static UserAgentClassifier FromEmbedded()
    {
        using var stream = typeof(UserAgentClassifier).Assembly.GetManifestResourceStream("Mailroom.Mail.Tracking.user-agents.txt")
            ?? throw new InvalidOperationException("The embedded user-agent rules are missing.");
        using var reader = new StreamReader(stream);
        return new UserAgentClassifier(reader.ReadToEnd());
    }

    /// <summary>Longest user agent looked at: the rules need the start, and a huge header must not cost regex time.</summary>
    public const int MaxLength = 512;

    public UserAgentFacts Classify(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
            return UserAgentFacts.Unknown;
        var ua = userAgent.Trim();
        if (ua.Length > MaxLength)
            ua = ua[..MaxLength];
        var (client, clientMatch) = First(_clients, ua);
        // A proxy's OS is the proxy's own (Gmail's claims Windows XP): say nothing rather than something wrong.
        var (os, osMatch) = client?.Proxy == true ? (null, null) : First(_systems, ua);
        var platform = client?.Platform ?? os?.Platform ?? EngagementPlatform.Unknown;
        return new UserAgentFacts(
            client is null ? "" : Name(client, clientMatch!), client?.Company ?? "", client?.Family ?? "",
            os is null ? "" : Name(os, osMatch!), os?.Company ?? "", os?.Family ?? "",
            platform, client?.Proxy ?? false, client?.Machine ?? false);
    }

    private static (Rule?, Match?) First(List<Rule> rules, string ua)
    {
        foreach (var rule in rules)
        {
            try
            {
                var m = rule.Pattern.Match(ua);
                if (m.Success)
                    return (rule, m);
            }
            catch (RegexMatchTimeoutException)
            {
                // A pathological agent string: this rule does not apply. (The bound is generous: on a loaded machine a
                // short one made ordinary agents time out and come out unknown.)
            }
        }
        return (null, null);
    }

    private static string Name(Rule rule, Match m)
    {
        var v = m.Groups["v"];
        return v.Success ? rule.Name.Replace("{v}", v.Value.Replace('_', '.')) : rule.Name.Replace(" {v}", "").Replace("{v}", "");
    }
}
