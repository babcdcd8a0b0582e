using Mailroom.Cli;

namespace Mailroom.Tests.Identities;

/// <summary>The identity settings: command line, environment, config file, default, first found wins.</summary>
public sealed class IdentitySettingsTests
{
    private static MailroomSettings Resolve(Dictionary<string, string?>? cli = null, Dictionary<string, string>? env = null, string? file = null)
    {
        string? path = null;
        if (file is not null)
        {
            path = Path.Combine(TestPaths.NewTempDirectory(), "mailroom.json");
            File.WriteAllText(path, file);
        }
        return MailroomSettings.Resolve(cli ?? [], path, name => env is not null && env.TryGetValue(name, out var v) ? v : null);
    }

    [Fact]
    public void DefaultsHaveNoPlatformDomainAndTheSystemResolver()
    {
        var s = Resolve(file: "{}");
        Assert.Null(s.PlatformDomain);
        Assert.Null(s.Dns);
        Assert.Null(s.DnsServer);
        Assert.Equal(TimeSpan.FromHours(48), s.SenderConfirmationLifetime);
        Assert.Equal(TimeSpan.FromHours(24), s.DnsRecheckInterval);
        Assert.Null(s.Platform.PlatformDomain);
    }

    [Fact]
    public void EachSourceIsRead()
    {
        var fromFile = Resolve(file: """{"PlatformDomain": "file.example", "Dns": "127.0.0.1:5353", "SenderConfirmationHours": 12, "DnsRecheckHours": "6"}""");
        Assert.Equal("file.example", fromFile.PlatformDomain);
        Assert.Equal("127.0.0.1:5353", fromFile.DnsServer!.ToString());
        Assert.Equal(TimeSpan.FromHours(12), fromFile.SenderConfirmationLifetime);
        Assert.Equal(TimeSpan.FromHours(6), fromFile.DnsRecheckInterval);

        var fromEnv = Resolve(env: new() { ["MAILROOM_PLATFORM_DOMAIN"] = "Env.Example.", ["MAILROOM_DNS"] = "127.0.0.2", ["MAILROOM_SENDER_CONFIRMATION_HOURS"] = "0.5" },
            file: """{"PlatformDomain": "file.example"}""");
        Assert.Equal("env.example", fromEnv.PlatformDomain);
        Assert.Equal("127.0.0.2:53", fromEnv.DnsServer!.ToString());
        Assert.Equal(TimeSpan.FromMinutes(30), fromEnv.Platform.SenderConfirmationLifetime);

        var fromCli = Resolve(cli: new() { ["PlatformDomain"] = "cli.example" }, env: new() { ["MAILROOM_PLATFORM_DOMAIN"] = "env.example" });
        Assert.Equal("cli.example", fromCli.Platform.PlatformDomain);
        Assert.Equal("pm-bounces.cli.example", fromCli.Platform.ReturnPathHost);
    }

    [Theory]
    [InlineData("PlatformDomain", "not a domain")]
    [InlineData("Dns", "dns.example.com:53")]
    [InlineData("SenderConfirmationHours", "forever")]
    [InlineData("DnsRecheckHours", "0")]
    public void InvalidValuesAreRefusedAtStart(string key, string value) =>
        Assert.Throws<ArgumentException>(() => Resolve(file: $$"""{"{{key}}": "{{value}}"}"""));

    [Fact]
    public void TheConfigurationTableListsTheNewSettings()
    {
        var keys = SettingDescriptors.All.Select(t => t.Key).ToList();
        Assert.Contains("PlatformDomain", keys);
        Assert.Contains("Dns", keys);
        Assert.Contains("SenderConfirmationHours", keys);
        Assert.Contains("DnsRecheckHours", keys);
    }
}
