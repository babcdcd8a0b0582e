using Mailroom.Mail.Addresses;

namespace Mailroom.Mail.Tests.Addresses;

public class VerpTests
{
    static readonly Guid Id = Guid.Parse("1d4b5f2a-0c9e-4e37-b1f2-a3c4d5e6f708");
    static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    static readonly byte[] OtherKey = Enumerable.Range(101, 32).Select(i => (byte)i).ToArray();
    static readonly VerpSigner Signer = new(Key);

    [Fact]
    public void FormatIsDocumentedForm()
    {
        var address = Signer.Encode(Id, 0, "pm-bounces.example.com");
        Assert.Matches("^pm_bounces\\+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0-[0-9a-f]{13}@pm-bounces\\.example\\.com$", address);
        var upperDomain = Signer.Encode(Id, 12, "PM-Bounces.Example.com");
        Assert.Matches("^pm_bounces\\+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-12-[0-9a-f]{13}@pm-bounces\\.example\\.com$", upperDomain);
        // The same inputs always give the same address (every node signs alike); the MAC depends on every input.
        Assert.Equal(address, new VerpSigner(Key).Encode(Id, 0, "PM-BOUNCES.example.com"));
        Assert.NotEqual(Mac(address), Mac(Signer.Encode(Id, 1, "pm-bounces.example.com")));
        Assert.NotEqual(Mac(address), Mac(Signer.Encode(Id, 0, "pm-bounces.example.net")));
        Assert.NotEqual(Mac(address), Mac(Signer.Encode(Guid.NewGuid(), 0, "pm-bounces.example.com")));
        Assert.NotEqual(Mac(address), Mac(new VerpSigner(OtherKey).Encode(Id, 0, "pm-bounces.example.com")));
    }

    static string Mac(string address) => EmailAddress.LocalPartOf(address)[^Verp.MacLength..];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(49)]
    [InlineData(Verp.MaxRecipientIndex)]
    public void RoundTrip(int index)
    {
        var id = Guid.NewGuid();
        var address = Signer.Encode(id, index, "bounces.example.com");
        Assert.True(EmailAddress.IsValid(address), address);
        Assert.True(Signer.TryDecodeVerified(address, out var decoded));
        Assert.Equal(id, decoded.MessageId);
        Assert.Equal(index, decoded.RecipientIndex);
        Assert.Equal("bounces.example.com", decoded.Domain);
    }

    [Fact]
    public void LocalPartStaysWithin64OctetsOfAtext()
    {
        // Longest case: the largest index (6 digits).
        var local = EmailAddress.LocalPartOf(Signer.Encode(Guid.NewGuid(), Verp.MaxRecipientIndex, "a-very-long-return-path-host.bounces.example.com"));
        Assert.Equal(EmailAddress.MaxLocalPartLength, local.Length);
        Assert.Matches("^[a-z0-9_+-]+$", local); // atext (RFC 5322 §3.2.3), no quoting needed
    }

    [Fact]
    public void DecodingIgnoresCaseAndAngleBrackets()
    {
        var address = Signer.Encode(Id, 3, "bounces.example.com");
        Assert.True(Signer.TryDecodeVerified(address.ToUpperInvariant(), out var upper));
        Assert.Equal(Id, upper.MessageId);
        Assert.Equal(3, upper.RecipientIndex);
        Assert.Equal("bounces.example.com", upper.Domain);
        Assert.True(Signer.TryDecodeVerified("<" + address + ">", out var bracketed));
        Assert.Equal(Id, bracketed.MessageId);
    }

    [Fact]
    public void AWrongKeyFailsVerification()
    {
        var address = Signer.Encode(Id, 0, "bounces.example.com");
        Assert.True(Verp.TryDecode(address, out var decoded)); // the shape alone is readable by anyone
        Assert.False(new VerpSigner(OtherKey).Verify(decoded));
        Assert.False(new VerpSigner(OtherKey).TryDecodeVerified(address, out _));
    }

    [Fact]
    public void APreviousKeyStillVerifiesButDoesNotSign()
    {
        var old = Signer.Encode(Id, 0, "bounces.example.com");
        var rotated = new VerpSigner(OtherKey, Key);
        Assert.True(rotated.TryDecodeVerified(old, out _));
        var fresh = rotated.Encode(Id, 0, "bounces.example.com");
        Assert.NotEqual(old, fresh);
        Assert.False(Signer.TryDecodeVerified(fresh, out _));
    }

    [Fact]
    public void TamperedIndexMacIdOrDomainFailsVerification()
    {
        var address = Signer.Encode(Id, 1, "bounces.example.com");
        var mac = Mac(address);
        Assert.False(Signer.TryDecodeVerified(address.Replace("-1-", "-2-"), out _));
        Assert.False(Signer.TryDecodeVerified(address.Replace("@bounces.example.com", "@other.example.com"), out _));
        Assert.False(Signer.TryDecodeVerified(address.Replace("1d4b5f2a", "1d4b5f2b"), out _));
        var flipped = mac[..^1] + (mac[^1] == '0' ? '1' : '0');
        Assert.False(Signer.TryDecodeVerified(address.Replace(mac, flipped), out _));
        Assert.False(Signer.Verify(default));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pm_bounces@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0@bounces.example.com")] // unsigned (earlier versions)
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0-@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708--0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-01-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708--1-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-x-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1000000-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789ab@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abcd@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abg@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f70-1-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f70g-1-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a-0c9e-4e37-b1f2-a3c4d5e6f708-1-0123456789abc@bounces.example.com")]
    [InlineData("other+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abc@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abc@")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abc")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1-0123456789abc@localhost")]
    public void OtherAddressesDoNotDecode(string? address)
    {
        Assert.False(Verp.TryDecode(address, out var decoded));
        Assert.Equal(default, decoded);
        Assert.False(Signer.TryDecodeVerified(address, out _));
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Signer.Encode(Id, -1, "bounces.example.com"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Signer.Encode(Id, Verp.MaxRecipientIndex + 1, "bounces.example.com"));
        Assert.Throws<ArgumentException>(() => Signer.Encode(Id, 0, "not a domain"));
        Assert.Throws<ArgumentException>(() => new VerpSigner(new byte[8]));
        Assert.Throws<ArgumentException>(() => new VerpSigner(Key, new byte[8]));
    }

    [Fact]
    public void LocalPartHelpers()
    {
        Assert.Equal("a.b", EmailAddress.LocalPartOf("a.b@example.com"));
        Assert.Equal("example.com", EmailAddress.DomainOf("a.b@Example.COM"));
    }
}
