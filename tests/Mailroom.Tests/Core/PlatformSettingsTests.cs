using Mailroom.Core;

namespace Mailroom.Tests.Core;

public sealed class PlatformSettingsTests
{
    [Theory]
    [InlineData("mail.example.net", "http://127.0.0.1:5080", "mail.example.net")]
    [InlineData(null, "https://mail.example.net", "mail.example.net")]
    [InlineData(null, "http://127.0.0.1:5080", PlatformSettings.LocalMailDomain)]
    [InlineData(null, "http://[::1]:5080", PlatformSettings.LocalMailDomain)]
    [InlineData(null, "http://localhost:5080", PlatformSettings.LocalMailDomain)]
    public void RecordsShownToCustomersNameADomainNeverAnAddress(string? platformDomain, string publicUrl, string mailDomain)
    {
        var platform = new PlatformSettings { PlatformDomain = platformDomain, PublicUrl = publicUrl };
        Assert.Equal(mailDomain, platform.MailDomain);
        Assert.Equal("pm-bounces." + mailDomain, platform.ReturnPathHost);
        Assert.Equal($"v=spf1 a mx include:spf.{mailDomain} ~all", platform.CustomerSpfRecord);
    }
}
