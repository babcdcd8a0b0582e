using Mailroom.Core.Identities;

namespace Mailroom.Tests.Identities;

public sealed class FreeMailDomainsTests
{
    [Theory]
    [InlineData("gmail.com")]
    [InlineData("GoogleMail.com")]
    [InlineData("mail.gmail.com")]
    [InlineData("gmail.com.")]
    [InlineData("yahoo.com")]
    [InlineData("yahoo.co.uk")]
    [InlineData("yahoo.com.br")]
    [InlineData("yahoo.fr")]
    [InlineData("outlook.com")]
    [InlineData("hotmail.co.uk")]
    [InlineData("hotmail.es")]
    [InlineData("live.com")]
    [InlineData("live.co.za")]
    [InlineData("msn.com")]
    [InlineData("icloud.com")]
    [InlineData("me.com")]
    [InlineData("mac.com")]
    [InlineData("aol.com")]
    [InlineData("mail.ru")]
    [InlineData("yandex.ru")]
    [InlineData("yandex.com.tr")]
    [InlineData("gmx.de")]
    [InlineData("gmx.net")]
    [InlineData("web.de")]
    [InlineData("proton.me")]
    [InlineData("protonmail.com")]
    [InlineData("zoho.com")]
    [InlineData("qq.com")]
    [InlineData("mailinator.com")]
    public void PublicProvidersAreListed(string domain) => Assert.True(FreeMailDomains.Contains(domain), domain);

    [Theory]
    [InlineData("shop.example")]
    [InlineData("example.co.uk")]
    [InlineData("gmail.example.com")]
    [InlineData("yahoo.example.com")]
    [InlineData("notgmail.com")]
    [InlineData("yahoo-fans.com")]
    [InlineData("mailroom.test")]
    [InlineData("com")]
    public void OwnDomainsAreNot(string domain) => Assert.False(FreeMailDomains.Contains(domain), domain);

    // Provider families ("yahoo.*") under the public suffixes their country sites use: refused whatever the suffix.
    [Theory]
    [InlineData("yahoo.de")]
    [InlineData("yahoo.co.jp")]
    [InlineData("yahoo.com.au")]
    [InlineData("yahoo.co.nz")]
    [InlineData("yahoo.com.ar")]
    [InlineData("hotmail.com.br")]
    [InlineData("hotmail.co.th")]
    [InlineData("outlook.com.ar")]
    [InlineData("live.com.mx")]
    [InlineData("live.ca")]
    [InlineData("gmx.at")]
    [InlineData("gmx.ch")]
    [InlineData("yandex.kz")]
    [InlineData("aol.co.uk")]
    [InlineData("libero.it")]
    [InlineData("qq.com")]
    [InlineData("bigpond.net.au")]
    [InlineData("protonmail.ch")]
    [InlineData("SMTP.Yahoo.Co.UK")]
    public void ProviderFamiliesAreListedUnderCountrySuffixes(string domain) => Assert.True(FreeMailDomains.Contains(domain), domain);

    // A family name is a provider only right before a public suffix: a customer's own domain or subdomain that
    // merely contains one is accepted.
    [Theory]
    [InlineData("yahoo.example.co.uk")]
    [InlineData("live.example.com.br")]
    [InlineData("mail.hotmail-support.net")]
    [InlineData("gmx.shop.de")]
    [InlineData("outlook.mycompany.com")]
    [InlineData("aol.example.org")]
    [InlineData("co.uk")]
    [InlineData("example.com.au")]
    public void FamilyNamesInsideOwnDomainsAreNot(string domain) => Assert.False(FreeMailDomains.Contains(domain), domain);

    [Fact]
    public void TheListHoldsSeveralHundredEntries() => Assert.InRange(FreeMailDomains.Count, 300, 5000);
}

public sealed class DkimTxtRecordTests
{
    private const string Key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAq+/z09==";

    [Theory]
    [InlineData("k=rsa; p=" + Key)]
    [InlineData("k=rsa;p=" + Key)]
    [InlineData("v=DKIM1; k=rsa; p=" + Key)]
    [InlineData("v=DKIM1;k=RSA;h=sha256;t=s;p=" + Key + ";")]
    [InlineData("p=" + Key)]
    [InlineData("\"k=rsa; \" \"p=" + Key + "\"")]
    [InlineData(" k = rsa ; p = MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A MIIBCgKCAQEAq+/z09== ")]
    public void MatchesTheShapesPeoplePublish(string txt) => Assert.True(DkimTxtRecord.Matches(txt, Key, out var problem), problem);

    [Theory]
    [InlineData("k=rsa; p=", "revokes")]
    [InlineData("k=rsa; p=MIIBother", "different public key")]
    [InlineData("v=DKIM2; p=" + Key, "DKIM1")]
    [InlineData("k=ed25519; p=" + Key, "RSA")]
    [InlineData("k=rsa", "no p=")]
    [InlineData("p=" + Key + "; p=" + Key, "twice")]
    [InlineData("v=spf1 -all", "not a DKIM1")]
    [InlineData("google-site-verification", "tag=value")]
    public void RefusesWhatDoesNotPublishTheKey(string txt, string reason)
    {
        Assert.False(DkimTxtRecord.Matches(txt, Key, out var problem));
        Assert.Contains(reason, problem);
    }

    [Fact]
    public void FormatsTheValueCustomersPublish() => Assert.Equal("k=rsa; p=" + Key, DkimTxtRecord.Format(Key));
}

public sealed class IdentityEnumNumbersTests
{
    [Fact]
    public void DkimKeyStateNumbersAreFrozen() => EnumAssert.Frozen<DkimKeyState>([0, 1, 2], ["Pending", "Active", "Revoked"]);
}
