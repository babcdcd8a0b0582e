using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mailroom.Cli;
using Mailroom.Smtp;

namespace Mailroom.Tests.Smtp;

/// <summary>The SMTP settings (command line, environment, file, default) and the STARTTLS certificate.</summary>
public sealed class SmtpSettingsTests
{
    [Fact]
    public void SmtpSettingsResolveInOrderWithDefaults()
    {
        var defaults = MailroomSettings.Resolve(new Dictionary<string, string?>(), null, _ => null);
        Assert.Equal("127.0.0.1:2525", defaults.Smtp);
        Assert.False(defaults.SmtpAllowPlainAuth);
        Assert.True(defaults.SmtpTcpNoDelay);
        Assert.Null(defaults.SmtpCertificate);
        Assert.Null(defaults.SmtpLoopbackToken);
        Assert.True(defaults.HasRole("smtp"));

        var env = new Dictionary<string, string>
        {
            ["MAILROOM_SMTP"] = "0.0.0.0:587",
            ["MAILROOM_SMTP_ALLOW_PLAIN_AUTH"] = "true",
            ["MAILROOM_SMTP_CERTIFICATE"] = "/etc/mailroom/smtp.pem",
            ["MAILROOM_SMTP_TCP_NODELAY"] = "false",
        };
        var fromEnv = MailroomSettings.Resolve(new Dictionary<string, string?>(), null, k => env.GetValueOrDefault(k));
        Assert.Equal("0.0.0.0:587", fromEnv.Smtp);
        Assert.True(fromEnv.SmtpAllowPlainAuth);
        Assert.Equal("/etc/mailroom/smtp.pem", fromEnv.SmtpCertificate);
        Assert.False(fromEnv.SmtpTcpNoDelay);

        var fromCli = MailroomSettings.Resolve(new Dictionary<string, string?> { ["Smtp"] = "127.0.0.1:2600" }, null, k => env.GetValueOrDefault(k));
        Assert.Equal("127.0.0.1:2600", fromCli.Smtp);
        Assert.False(new MailroomSettings { Roles = "api,delivery" }.HasRole("smtp"));

        Assert.Throws<ArgumentException>(() => MailroomSettings.Resolve(new Dictionary<string, string?>(), null,
            k => k == "MAILROOM_SMTP_ALLOW_PLAIN_AUTH" ? "yes please" : null));
        Assert.Contains(SettingDescriptors.All, r => r.Option == "--smtp" && r.Env == "MAILROOM_SMTP" && r.Key == "Smtp");
    }

    [Theory]
    [InlineData("localhost:2525", "127.0.0.1", 2525)]
    [InlineData("0.0.0.0:587", "0.0.0.0", 587)]
    [InlineData("[::1]:2525", "::1", 2525)]
    public void TheListenAddressIsAnIpAndPort(string value, string address, int port)
    {
        var options = SmtpSubmissionOptions.From(new MailroomSettings { Smtp = value }, "mailroom.test");
        Assert.Equal(address, options.Endpoint.Address.ToString());
        Assert.Equal(port, options.Endpoint.Port);
        Assert.Throws<ArgumentException>(() => SmtpSubmissionOptions.From(new MailroomSettings { Smtp = "mail.example.com:25" }, "mailroom.test"));
    }

    [Fact]
    public async Task WithoutACertificateASelfSignedOneIsMadeOnceAndKept()
    {
        await using var host = await SmtpHost.StartAsync();
        var file = Path.Combine(host.DataDirectory, SubmissionCertificate.GeneratedFileName);
        Assert.True(File.Exists(file));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var (d, _) = await SmtpDialog.OpenAsync(host.Port());
        await using var _d = d;
        await d.SendAsync("EHLO client.test");
        await d.StartTlsAsync();
        var kept = X509Certificate2.CreateFromPemFile(file);
        Assert.Equal(kept.Thumbprint, d.RemoteCertificate!.Thumbprint);
        Assert.Contains("mailroom.test", d.RemoteCertificate.Subject);
    }

    [Theory]
    [InlineData("pem", null)]
    [InlineData("pfx", "secret")]
    public async Task AConfiguredCertificateIsPresented(string format, string? password)
    {
        var dir = TestPaths.NewTempDirectory("mailroom-cert");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=smtp.customer.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(dir, "smtp." + format);
        if (format == "pem")
            await File.WriteAllTextAsync(path, certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n");
        else
            await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, password));
        await using var host = await SmtpHost.StartAsync(s => s with { SmtpCertificate = path, SmtpCertificatePassword = password });
        var (d, _) = await SmtpDialog.OpenAsync(host.Port());
        await using var _d = d;
        await d.SendAsync("EHLO client.test");
        Assert.Equal(220, (await d.StartTlsAsync()).Code);
        Assert.Equal(certificate.Thumbprint, d.RemoteCertificate!.Thumbprint);
        Assert.False(File.Exists(Path.Combine(host.DataDirectory, SubmissionCertificate.GeneratedFileName)));
    }
}
