using Mailroom.Cli;

namespace Mailroom.Tests.Cli;

/// <summary>Settings are declared once (<see cref="SettingDescriptors"/>); the README, --help and Resolve follow.</summary>
public sealed class SettingDescriptorsTests
{
    [Fact]
    public void TheReadmeConfigurationTableIsTheDeclaredOne()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")).Replace("\r\n", "\n");
        var expected = SettingDescriptors.ReadmeTable();
        Assert.True(readme.Contains(expected, StringComparison.Ordinal),
            "README.md's configuration table differs from SettingDescriptors.All; replace it with:\n\n" + expected);
    }

    [Fact]
    public void EveryDeclaredSettingIsReadFromItsEnvironmentVariable()
    {
        // A value no setting accepts: every declared setting must look at its variable, so each one is read (and refused)
        // on its own; a setting declared but never read would resolve without complaint.
        var unread = new List<string>();
        foreach (var d in SettingDescriptors.All)
        {
            var probe = d.Key switch
            {
                "Data" or "Http" or "PublicUrl" or "InboundHost" or "Relay" or "RelayUsername" or "RelayPassword" or "HeloName"
                    or "Mx" or "Smtp" or "SmtpCertificate" or "SmtpCertificatePassword" or "SmtpLoopbackToken" or "Database" or "MasterKey" or "MasterKeyFile" => (string?)null,
                _ => "not-a-valid-value!",
            };
            if (probe is null)
                continue; // free text: checked below by round trip
            var threw = false;
            try
            {
                MailroomSettings.Resolve(new Dictionary<string, string?>(), null, name => name == d.Env ? probe : null);
            }
            catch (ArgumentException)
            {
                threw = true;
            }
            if (!threw)
                unread.Add(d.Key);
        }
        Assert.Empty(unread);

        var text = new Dictionary<string, Func<MailroomSettings, string?>>
        {
            ["Data"] = s => s.DataDirectory, ["Http"] = s => s.Http, ["PublicUrl"] = s => s.PublicUrl, ["InboundHost"] = s => s.InboundHost,
            ["Relay"] = s => s.Relay, ["RelayUsername"] = s => s.RelayUsername, ["RelayPassword"] = s => s.RelayPassword,
            ["HeloName"] = s => s.HeloName, ["Mx"] = s => s.Mx, ["Smtp"] = s => s.Smtp,
            ["SmtpCertificate"] = s => s.SmtpCertificate, ["SmtpCertificatePassword"] = s => s.SmtpCertificatePassword,
            ["SmtpLoopbackToken"] = s => s.SmtpLoopbackToken, ["Database"] = s => s.Database,
            ["MasterKey"] = s => s.MasterKey, ["MasterKeyFile"] = s => s.MasterKeyFile,
        };
        foreach (var (key, read) in text)
        {
            var env = SettingDescriptors.Get(key).Env;
            var resolved = MailroomSettings.Resolve(new Dictionary<string, string?>(), null, name => name == env ? "probe-value:1" : null);
            Assert.Equal("probe-value:1", read(resolved));
        }
    }

    [Fact]
    public void EveryOptionHasHelpNamingItsVariableAndDefault()
    {
        var serve = MailroomCommandLine.Build().Subcommands.Single(c => c.Name == "serve");
        foreach (var d in SettingDescriptors.All.Where(d => d.Option is not null))
        {
            var option = serve.Options.Single(o => o.Name == d.Option);
            Assert.Contains(d.Env, option.Description);
            Assert.Contains("Default:", option.Description);
        }
    }
}
