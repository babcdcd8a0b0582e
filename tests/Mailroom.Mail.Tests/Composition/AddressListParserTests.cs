using Mailroom.Mail.Addresses;
using Mailroom.Mail.Composition;

namespace Mailroom.Mail.Tests.Composition;

public class AddressListParserTests
{
    [Fact]
    public void CommaInsideQuotesDoesNotSplit()
    {
        var list = AddressListParser.Parse("\"Smith, Jo\" <jo@x.com>, b@y.org", "To");
        Assert.Equal([new NamedAddress("Smith, Jo", "jo@x.com"), new NamedAddress(null, "b@y.org")], list);
    }

    [Theory]
    [InlineData("jo@x.com", null, "jo@x.com")]
    [InlineData("  jo@x.com  ", null, "jo@x.com")]
    [InlineData("<jo@x.com>", null, "jo@x.com")]
    [InlineData("Jo Smith <jo@x.com>", "Jo Smith", "jo@x.com")]
    [InlineData("Jo Smith<jo@x.com>", "Jo Smith", "jo@x.com")]
    [InlineData("\"Jo Smith\" <jo@x.com>", "Jo Smith", "jo@x.com")]
    [InlineData("\"Jo \\\"JJ\\\" Smith\" <jo@x.com>", "Jo \"JJ\" Smith", "jo@x.com")]
    [InlineData("\"a\\\\b\" <jo@x.com>", "a\\b", "jo@x.com")]
    [InlineData("\"\" <jo@x.com>", null, "jo@x.com")]
    [InlineData("Zoë Ünal <z@x.com>", "Zoë Ünal", "z@x.com")]
    [InlineData("\"Quote <not@addr.com>\" <real@x.com>", "Quote <not@addr.com>", "real@x.com")]
    [InlineData("Jo (Sales, EU) <jo@x.com>", "Jo (Sales, EU)", "jo@x.com")]
    [InlineData("Jo <jo@x.com>  ", "Jo", "jo@x.com")]
    public void SingleEntries(string input, string? name, string address)
    {
        Assert.Equal([new NamedAddress(name, address)], AddressListParser.Parse(input, "To"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" , ,")]
    public void BlankListsAreEmpty(string? input)
    {
        Assert.Empty(AddressListParser.Parse(input, "Cc"));
        Assert.Equal(0, AddressListParser.CountRecipients(input));
    }

    [Fact]
    public void TrailingAndDoubledCommasAreIgnored()
    {
        Assert.Equal(2, AddressListParser.Parse("a@x.com,, b@y.org ,", "To").Count);
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("a@x.com, nope")]
    [InlineData("Jo <jo@x.com")]
    [InlineData("Jo <jo@x.com> trailing")]
    [InlineData("\"Jo <jo@x.com>")]
    [InlineData("Jo \"x\" <jo@x.com>")]
    [InlineData("a@x.com; b@y.org")]
    [InlineData("Jo <>")]
    [InlineData("jo@localhost")]
    [InlineData("\"Evil\r\nBcc: v@x.com\" <jo@x.com>")]
    [InlineData("jo@x.com\nBcc: v@x.com")]
    [InlineData("Group: a@x.com;")]
    public void InvalidListsFailWithTheFieldNamed(string input)
    {
        Assert.False(AddressListParser.TryParse(input, "ReplyTo", out var addresses, out var error));
        Assert.Empty(addresses);
        Assert.Equal("ReplyTo", error.Field);
        Assert.Contains("ReplyTo", error.Message);
        var thrown = Assert.Throws<CompositionException>(() => AddressListParser.Parse(input, "ReplyTo"));
        Assert.Equal("ReplyTo", thrown.Field);
    }

    [Fact]
    public void ErrorQuotesTheBadEntry()
    {
        var error = Assert.Throws<CompositionException>(() => AddressListParser.Parse("ok@x.com, Bad <bad@>", "To"));
        Assert.Contains("Bad <bad@>", error.Message);
    }

    [Fact]
    public void RecipientsAreCountedAcrossLists()
    {
        Assert.Equal(4, AddressListParser.CountRecipients("a@x.com, \"B, b\" <b@x.com>", null, "c@x.com,", "Jo (x, y) <d@x.com>"));
        Assert.Equal(0, AddressListParser.CountRecipients());
    }

    [Fact]
    public void ParsedAddressesCompose()
    {
        var to = AddressListParser.Parse("\"Smith, Jo\" <jo@x.com>, b@y.org", "To");
        var message = Samples.Composer.Compose(Samples.Simple() with { To = to });
        Assert.Equal(["jo@x.com", "b@y.org"], message.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("Smith, Jo", message.To.Mailboxes.First().Name);
    }
}
