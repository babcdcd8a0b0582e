using Mailroom.Mail.Addresses;

namespace Mailroom.Mail.Tests.Addresses;

public class VerpTests
{
    static readonly Guid Id = Guid.Parse("1d4b5f2a-0c9e-4e37-b1f2-a3c4d5e6f708");

    [Fact]
    public void Format_is_documented_form()
    {
        Assert.Equal("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-0@pm-bounces.example.com", Verp.Encode(Id, 0, "pm-bounces.example.com"));
        Assert.Equal("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-12@pm-bounces.example.com", Verp.Encode(Id, 12, "PM-Bounces.Example.com"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(49)]
    [InlineData(int.MaxValue)]
    public void Round_trip(int index)
    {
        var id = Guid.NewGuid();
        var address = Verp.Encode(id, index, "bounces.example.com");
        Assert.True(EmailAddress.IsValid(address), address);
        Assert.True(EmailAddress.LocalPartOf(address).Length <= EmailAddress.MaxLocalPartLength);
        Assert.True(Verp.TryDecode(address, out var decoded));
        Assert.Equal(new VerpAddress(id, index, "bounces.example.com"), decoded);
    }

    [Fact]
    public void Decoding_ignores_case_and_angle_brackets()
    {
        var address = Verp.Encode(Id, 3, "bounces.example.com");
        Assert.True(Verp.TryDecode(address.ToUpperInvariant(), out var upper));
        Assert.Equal(new VerpAddress(Id, 3, "bounces.example.com"), upper);
        Assert.True(Verp.TryDecode("<" + address + ">", out var bracketed));
        Assert.Equal(Id, bracketed.MessageId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pm_bounces@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-01@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708--1@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-x@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-99999999999@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f70-1@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f70g-1@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a-0c9e-4e37-b1f2-a3c4d5e6f708-1@bounces.example.com")]
    [InlineData("other+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1@bounces.example.com")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1@")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1")]
    [InlineData("pm_bounces+1d4b5f2a0c9e4e37b1f2a3c4d5e6f708-1@localhost")]
    public void Other_addresses_do_not_decode(string? address)
    {
        Assert.False(Verp.TryDecode(address, out var decoded));
        Assert.Equal(default, decoded);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Verp.Encode(Id, -1, "bounces.example.com"));
        Assert.Throws<ArgumentException>(() => Verp.Encode(Id, 0, "not a domain"));
    }

    [Fact]
    public void Local_part_helpers()
    {
        Assert.Equal("a.b", EmailAddress.LocalPartOf("a.b@example.com"));
        Assert.Equal("example.com", EmailAddress.DomainOf("a.b@Example.COM"));
    }
}
