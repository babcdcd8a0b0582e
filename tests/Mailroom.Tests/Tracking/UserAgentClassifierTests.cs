using Mailroom.Mail.Tracking;

namespace Mailroom.Tests.Tracking;

/// <summary>The classifier's shipped rules (src/Mailroom.Mail/Tracking/user-agents.txt) on real user-agent strings of
/// the agents that fetch tracking images and follow tracked links.</summary>
public sealed class UserAgentClassifierTests
{
    public static TheoryData<string, string, string, string, string, string, bool, bool> Agents => new()
    {
        // agent, client name, client family, OS name, OS family, platform, proxy, machine
        { "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "Gmail", "Gmail", "", "", "WebMail", true, false },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", "Apple Mail", "Apple Mail", "OS X 10.15", "OS X", "Desktop", false, false },
        { "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)", "Outlook 16.0", "Outlook", "Windows 10", "Windows", "Desktop", false, false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0", "Thunderbird 115.5", "Thunderbird", "Windows 10", "Windows", "Desktop", false, false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", "Apple Mail", "Apple Mail", "iOS 17.1", "iOS", "Mobile", false, false },
        { "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UD1A.231105.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.193 Mobile Safari/537.36", "Android WebView 119.0", "Android WebView", "Android 14", "Android", "Mobile", false, false },
        { "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", "Chrome 120.0", "Chrome", "Android 13", "Android", "Mobile", false, false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome 120.0", "Chrome", "Windows 10", "Windows", "Desktop", false, false },
        { "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121.0", "Firefox", "Linux", "Linux", "Desktop", false, false },
        { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari 17.1", "Safari", "OS X 10.15", "OS X", "Desktop", false, false },
        { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17.1", "Safari", "iOS 17.1", "iOS", "Mobile", false, false },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120.0", "Edge", "Windows 10", "Windows", "Desktop", false, false },
        { "Mozilla/5.0", "Apple Mail Privacy Protection", "Apple Mail", "", "", "Unknown", true, true },
        { "python-requests/2.31.0", "Automated client", "Automated client", "", "", "Unknown", false, true },
        { "Mozilla/5.0 (compatible; Barracuda Sentinel (EE))", "Link scanner", "Link scanner", "", "", "Unknown", false, true },
    };

    [Theory]
    [MemberData(nameof(Agents))]
    public void ClassifiesRealAgents(string agent, string client, string clientFamily, string os, string osFamily, string platform, bool proxy, bool machine)
    {
        var facts = UserAgentClassifier.Default.Classify(agent);
        Assert.Equal(client, facts.ClientName);
        Assert.Equal(clientFamily, facts.ClientFamily);
        Assert.Equal(os, facts.OsName);
        Assert.Equal(osFamily, facts.OsFamily);
        Assert.Equal(platform, facts.Platform.ToString());
        Assert.Equal(proxy, facts.Proxy);
        Assert.Equal(machine, facts.Machine);
    }

    [Fact]
    public void AnEmptyOrUnknownAgentIsUnknown()
    {
        Assert.Equal(UserAgentFacts.Unknown, UserAgentClassifier.Default.Classify(null));
        Assert.Equal(UserAgentFacts.Unknown, UserAgentClassifier.Default.Classify("SomethingNobodyKnows/1.0"));
    }

    [Fact]
    public void AMalformedRuleFileIsRefusedWithItsLine()
    {
        var e = Assert.Throws<FormatException>(() => new UserAgentClassifier("# comment\nclient\tFoo\tFoo\n"));
        Assert.Contains("line 2", e.Message);
        Assert.Throws<FormatException>(() => new UserAgentClassifier("client\t(\tX\t-\tX\tDesktop\t-"));
        Assert.Throws<FormatException>(() => new UserAgentClassifier("client\tX\tX\t-\tX\tTablet\t-"));
    }
}
