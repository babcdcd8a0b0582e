using System.Security.Cryptography;
using Mailroom.Mail.Dkim;

namespace Mailroom.Mail.Tests.Dkim;

public class DkimKeyTests
{
    [Fact]
    public void GeneratedPairHasPkcs8PemAndSpkiPublicKey()
    {
        var pair = Samples.Key;
        Assert.Equal(2048, pair.KeySizeBits);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pair.PrivateKeyPem);
        Assert.Equal("k=rsa; p=" + pair.PublicKeyBase64, pair.DnsTxtValue);

        using var publicKey = RSA.Create();
        publicKey.ImportSubjectPublicKeyInfo(Convert.FromBase64String(pair.PublicKeyBase64), out var read);
        Assert.Equal(2048, publicKey.KeySize);

        using var privateKey = RSA.Create();
        privateKey.ImportFromPem(pair.PrivateKeyPem);
        var data = "check"u8.ToArray();
        var signature = privateKey.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.True(publicKey.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public void TxtValueSplitsInto255OctetStrings()
    {
        var strings = Samples.Key.DnsTxtStrings();
        Assert.Equal(2, strings.Count);
        Assert.All(strings, s => Assert.True(s.Length <= 255));
        Assert.Equal(Samples.Key.DnsTxtValue, string.Concat(strings));
    }

    [Fact]
    public void PairIsRebuiltFromStoredPemPkcs8OrPkcs1()
    {
        Assert.Equal(Samples.Key.PublicKeyBase64, DkimKeyPair.FromPrivateKeyPem(Samples.Key.PrivateKeyPem).PublicKeyBase64);

        using var rsa = RSA.Create();
        rsa.ImportFromPem(Samples.Key.PrivateKeyPem);
        var pkcs1 = rsa.ExportRSAPrivateKeyPem();
        Assert.StartsWith("-----BEGIN RSA PRIVATE KEY-----", pkcs1);
        Assert.Equal(Samples.Key.PublicKeyBase64, DkimKeyPair.FromPrivateKeyPem(pkcs1).PublicKeyBase64);
    }

    [Fact]
    public void UnusableKeysAreRefused()
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(Samples.Key.PrivateKeyPem);
        Assert.Throws<ArgumentException>(() => DkimKeyPair.FromPrivateKeyPem(rsa.ExportSubjectPublicKeyInfoPem()));
        Assert.Throws<ArgumentException>(() => DkimKeyPair.FromPrivateKeyPem("not a key"));
        Assert.Throws<ArgumentException>(() => DkimKeyPair.FromPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"));
        Assert.Throws<ArgumentOutOfRangeException>(() => DkimKeyPair.Generate(512));

        using var small = RSA.Create(768);
        var error = Assert.Throws<ArgumentException>(() => DkimSigningKey.Load(new DkimKey("example.com", "s1", small.ExportPkcs8PrivateKeyPem())));
        Assert.Equal("PrivateKeyPem", error.ParamName);
    }

    [Theory]
    [InlineData("bad domain", "s1", "Domain")]
    [InlineData("localhost", "s1", "Domain")]
    [InlineData("example.com", "", "Selector")]
    [InlineData("example.com", "bad_selector", "Selector")]
    [InlineData("example.com", "-s1", "Selector")]
    public void InvalidDomainOrSelectorIsRefused(string domain, string selector, string param)
    {
        var error = Assert.Throws<ArgumentException>(() => DkimSigningKey.Load(new DkimKey(domain, selector, Samples.Key.PrivateKeyPem)));
        Assert.Equal(param, error.ParamName);
    }

    [Fact]
    public void SelectorHasPostmarkDatedFormInUtc()
    {
        Assert.Equal("20261129051950pm", DkimSelector.FromTime(new DateTimeOffset(2026, 11, 29, 5, 19, 50, TimeSpan.Zero)));
        Assert.Equal("20261129051950pm", DkimSelector.FromTime(new DateTimeOffset(2026, 11, 29, 7, 19, 50, TimeSpan.FromHours(2))));
        Assert.Equal("20260101000000pm", DkimSelector.FromTime(new DateTimeOffset(2025, 12, 31, 19, 0, 0, TimeSpan.FromHours(-5))));
        Assert.True(DkimSelector.IsValid(DkimSelector.FromTime(DateTimeOffset.UnixEpoch)));
    }

    [Theory]
    [InlineData("s1", true)]
    [InlineData("20261129051950pm", true)]
    [InlineData("eu.2024", true)]
    [InlineData("a-b", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("a..b", false)]
    [InlineData("a_b", false)]
    [InlineData("a b", false)]
    [InlineData("-a", false)]
    public void SelectorSyntax(string? selector, bool valid) => Assert.Equal(valid, DkimSelector.IsValid(selector));

    [Fact]
    public void DnsNameIsSelectorDomainkeyDomain()
    {
        Assert.Equal("s1._domainkey.example.com", DkimSelector.DnsName("s1", "example.com"));
    }

    [Fact]
    public void CacheLoadsEachKeyOnceAndForgetsFailures()
    {
        var cache = new DkimKeyCache();
        var first = cache.Get(Samples.DkimKey);
        Assert.Same(first, cache.Get(Samples.DkimKey with { }));
        Assert.NotSame(first, cache.Get(Samples.DkimKey with { Selector = "other" }));
        Assert.Equal(2, cache.Count);
        Assert.Equal("mail.example.com", first.Domain);
        Assert.Equal(2048, first.KeySizeBits);

        var broken = new DkimKey("example.com", "s1", "garbage");
        Assert.Throws<ArgumentException>(() => cache.Get(broken));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void CacheEmptiesItselfPastCapacity()
    {
        var cache = new DkimKeyCache(capacity: 2);
        cache.Get(Samples.DkimKey with { Selector = "a" });
        cache.Get(Samples.DkimKey with { Selector = "b" });
        cache.Get(Samples.DkimKey with { Selector = "c" });
        Assert.True(cache.Count <= 2);
    }

    [Fact]
    public void DomainIsLowerCasedForDTag()
    {
        Assert.Equal("mail.example.com", DkimSigningKey.Load(Samples.DkimKey with { Domain = "Mail.Example.COM" }).Domain);
    }

    [Fact]
    public void KeyRecordNeverPrintsThePrivateKey()
    {
        var text = Samples.DkimKey.ToString();
        Assert.DoesNotContain("PRIVATE", text);
        Assert.Contains("mail.example.com", text);
        Assert.Contains("redacted", text);
    }
}
