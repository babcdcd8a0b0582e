using Mailroom.Core.Dmarc;

namespace Mailroom.Tests.Dmarc;

public class KnownSendersTests
{
    [Theory]
    [InlineData("sendgrid.net", "service", "SendGrid")]
    [InlineData("o1.ptr1234.sendgrid.net", "service", "SendGrid")]
    [InlineData("acme-example.20230601.gappssmtp.com", "service", "Google Workspace")]
    [InlineData("mail-eopbgr80041.outbound.protection.outlook.com", "service", "Microsoft 365")]
    [InlineData("a8-41.smtp-out.amazonses.com", "service", "Amazon SES")]
    [InlineData("googlegroups.com", "forwarder", "Google Groups")]
    [InlineData("Relay.Firefox.com.", "forwarder", "Firefox Relay")]
    public void MatchesTheLongestListedSuffix(string domain, string kind, string name) =>
        Assert.Equal(new KnownSender(kind, name), KnownSenders.Match(domain));

    [Theory]
    [InlineData("notsendgrid.net")] // a suffix matches whole labels only
    [InlineData("sendgrid.net.evil.example")]
    [InlineData("")]
    [InlineData(null)]
    public void MatchesNothingElse(string? domain) => Assert.Null(KnownSenders.Match(domain));
}
