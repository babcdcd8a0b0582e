using Mailroom.Mail.Bounces;

namespace Mailroom.Mail.Tests.Bounces;

public class BounceTypeTests
{
    /// <summary>Postmark's TypeCodes. These numbers are an external contract: never change them.</summary>
    private static readonly Dictionary<string, int> PostmarkTypeCodes = new()
    {
        ["HardBounce"] = 1,
        ["Transient"] = 2,
        ["Unsubscribe"] = 16,
        ["Subscribe"] = 32,
        ["AutoResponder"] = 64,
        ["AddressChange"] = 128,
        ["DnsError"] = 256,
        ["SpamNotification"] = 512,
        ["OpenRelayTest"] = 1024,
        ["Unknown"] = 2048,
        ["SoftBounce"] = 4096,
        ["VirusNotification"] = 8192,
        ["ChallengeVerification"] = 16384,
        ["BadEmailAddress"] = 100000,
        ["SpamComplaint"] = 100001,
        ["ManuallyDeactivated"] = 100002,
        ["Unconfirmed"] = 100003,
        ["Blocked"] = 100006,
        ["SMTPApiError"] = 100007,
        ["InboundError"] = 100008,
        ["DMARCPolicy"] = 100009,
        ["TemplateRenderingFailed"] = 100010,
    };

    [Fact]
    public void EnumNumbersArePostmarkTypeCodes()
    {
        var actual = Enum.GetValues<BounceType>().ToDictionary(t => t.ToString(), t => (int)t);
        Assert.Equal(PostmarkTypeCodes.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
        Assert.All(Enum.GetValues<BounceType>(), t => Assert.Equal((int)t, t.TypeCode));
    }

    [Fact]
    public void EveryTypeHasANameAndADescription()
    {
        foreach (var type in Enum.GetValues<BounceType>())
        {
            Assert.False(string.IsNullOrWhiteSpace(type.Name), type.ToString());
            Assert.EndsWith(".", type.Description);
        }
        Assert.Equal(Enum.GetValues<BounceType>().Length, Enum.GetValues<BounceType>().Select(t => t.Name).Distinct().Count());
    }

    [Theory]
    [InlineData(BounceType.HardBounce, "Hard bounce", "The server was unable to deliver your message (ex: unknown user, mailbox not found).")]
    [InlineData(BounceType.Transient, "Message delayed/Undeliverable", null)]
    [InlineData(BounceType.SoftBounce, "Soft bounce", null)]
    [InlineData(BounceType.DnsError, "DNS error", null)]
    [InlineData(BounceType.Blocked, "ISP block", null)]
    [InlineData(BounceType.AutoResponder, "Auto responder", null)]
    [InlineData(BounceType.SpamComplaint, "Spam complaint", null)]
    public void NamesFollowPostmark(BounceType type, string name, string? description)
    {
        Assert.Equal(name, type.Name);
        if (description is not null)
            Assert.Equal(description, type.Description);
    }

    [Fact]
    public void OnlyHardBouncesComplaintsBadAddressesAndManualDeactivationSuppress()
    {
        var suppressing = Enum.GetValues<BounceType>().Where(t => t.SuppressesRecipient).ToHashSet();
        Assert.Equal(
            new HashSet<BounceType> { BounceType.HardBounce, BounceType.SpamComplaint, BounceType.BadEmailAddress, BounceType.ManuallyDeactivated },
            suppressing);
        Assert.False(BounceType.AutoResponder.SuppressesRecipient);
        Assert.False(BounceType.Transient.SuppressesRecipient);
    }
}
