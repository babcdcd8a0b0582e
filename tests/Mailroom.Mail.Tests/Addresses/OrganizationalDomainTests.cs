using Mailroom.Mail.Addresses;

namespace Mailroom.Mail.Tests.Addresses;

/// <summary>Cases from the Public Suffix List's own test file (publicsuffix.org's tests/test_psl.txt,
/// checkPublicSuffix: the registrable domain of a name), and PTR names as DMARC reports' sources have them.</summary>
public class OrganizationalDomainTests
{
    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("b.example.com", "example.com")]
    [InlineData("a.b.example.com", "example.com")]
    [InlineData("example.uk.com", "example.uk.com")] // private section rule uk.com
    [InlineData("b.example.uk.com", "example.uk.com")]
    [InlineData("test.ac", "test.ac")]
    [InlineData("c.mm", null)] // wildcard *.mm: c.mm is a suffix
    [InlineData("b.c.mm", "b.c.mm")]
    [InlineData("a.b.c.mm", "b.c.mm")]
    [InlineData("test.jp", "test.jp")]
    [InlineData("www.test.jp", "test.jp")]
    [InlineData("ac.jp", null)]
    [InlineData("test.ac.jp", "test.ac.jp")]
    [InlineData("test.kyoto.jp", "test.kyoto.jp")]
    [InlineData("ide.kyoto.jp", null)]
    [InlineData("b.ide.kyoto.jp", "b.ide.kyoto.jp")]
    [InlineData("c.kobe.jp", null)] // *.kobe.jp
    [InlineData("b.c.kobe.jp", "b.c.kobe.jp")]
    [InlineData("city.kobe.jp", "city.kobe.jp")] // !city.kobe.jp: an exception to the wildcard
    [InlineData("www.city.kobe.jp", "city.kobe.jp")]
    [InlineData("com", null)]
    [InlineData("example", null)] // no rule: the default "*" makes the last label the suffix
    [InlineData("b.example", "b.example")]
    [InlineData("mail-yw1-f41.google.com", "google.com")]
    [InlineData("a8-41.smtp-out.amazonses.com", "amazonses.com")]
    [InlineData("mail-eopbgr80041.outbound.protection.outlook.com", "outlook.com")]
    [InlineData("mx.example.co.uk.", "example.co.uk")]
    [InlineData("MAIL.EXAMPLE.COM", "example.com")]
    [InlineData("192.0.2.1", null)]
    [InlineData("", null)]
    [InlineData("a..example.com", null)]
    public void FindsTheRegistrableDomain(string host, string? expected) =>
        Assert.Equal(expected, OrganizationalDomain.Of(host));

    [Theory]
    [InlineData("co.uk", true)]
    [InlineData("github.io", true)]
    [InlineData("example.co.uk", false)]
    public void KnowsPublicSuffixes(string name, bool expected) => Assert.Equal(expected, OrganizationalDomain.IsPublicSuffix(name));
}
