using Mailroom.Core.Tracking;
using Mailroom.Mail.Tracking;

namespace Mailroom.Tests.Tracking;

/// <summary>Tokens and link rewriting, the pure parts of tracking (src/Mailroom.Mail/Tracking).</summary>
public sealed class TrackingContentTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void ATokenNamesMessageRecipientAndLinkAndOnlyItsKeyVerifiesIt()
    {
        var signer = new TrackingTokenSigner(Key);
        var id = Guid.NewGuid();
        var token = signer.Click(id, 3, 7);
        Assert.Equal(48, token.Length);
        Assert.True(signer.TryVerify(token, TrackingKind.Click, out var t));
        Assert.Equal(new TrackingToken(TrackingKind.Click, id, 3, 7), t);
        // Not an open token, and another key refuses it.
        Assert.False(signer.TryVerify(token, TrackingKind.Open, out _));
        Assert.False(new TrackingTokenSigner(Enumerable.Repeat((byte)9, 32).ToArray()).TryVerify(token, TrackingKind.Click, out _));
        // A previous key still verifies (mail sent before a key change).
        Assert.True(new TrackingTokenSigner(Enumerable.Repeat((byte)9, 32).ToArray(), [Key]).TryVerify(token, TrackingKind.Click, out _));
    }

    [Fact]
    public void EveryAlteredCharacterOfATokenIsRefused()
    {
        var signer = new TrackingTokenSigner(Key);
        var token = signer.Open(Guid.NewGuid(), 0);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (var i = 0; i < token.Length; i++)
        {
            var other = alphabet[(alphabet.IndexOf(token[i]) + 1) % alphabet.Length];
            var altered = token[..i] + other + token[(i + 1)..];
            Assert.False(signer.TryVerify(altered, TrackingKind.Open, out _), $"altered at {i}: {altered}");
        }
        Assert.False(signer.TryVerify("", TrackingKind.Open, out _));
        Assert.False(signer.TryVerify(token + "A", TrackingKind.Open, out _));
        Assert.False(signer.TryVerify(new string('!', 48), TrackingKind.Open, out _));
    }

    [Fact]
    public void HtmlLinksAreRewrittenExceptMailtoAnchorsPlaceholdersAndUnsubscribe()
    {
        const string html = """
            <html><body><p><a href="https://shop.example/a?x=1&amp;y=2">Shop</a>
            <a href="mailto:help@shop.example">Mail us</a> <a href="#top">Top</a>
            <a href="{{{ pm:unsubscribe }}}">Stop these emails</a> <a href="https://shop.example/prefs/unsubscribe?u=1">Leave</a>
            <a href="https://shop.example/b">Opt out</a> <a href="https://shop.example/a?x=1&amp;y=2">Shop again</a>
            <!-- <a href="https://hidden.example/">not a link</a> --></p></body></html>
            """;
        var links = new LinkTable();
        var result = LinkRewriter.RewriteHtml(html, url => $"https://t.example/c/{links.IndexOf(url, LinkLocation.HTML)}", "https://t.example/o/x");
        Assert.Contains("href=\"https://t.example/c/0\"", result);
        Assert.Contains("href=\"https://t.example/c/1\"", result);
        Assert.Equal(["https://shop.example/a?x=1&y=2", "https://shop.example/b"], links.Links.Select(l => l.Url));
        Assert.Contains("href=\"mailto:help@shop.example\"", result);
        Assert.Contains("href=\"#top\"", result);
        Assert.Contains("href=\"{{{ pm:unsubscribe }}}\"", result);
        Assert.Contains("href=\"https://shop.example/prefs/unsubscribe?u=1\"", result);
        Assert.Contains("https://hidden.example/", result); // comments are not links
        Assert.Equal(1, CountOf(result, "https://t.example/o/x"));
        Assert.Contains("<img src=\"https://t.example/o/x\" width=\"1\" height=\"1\"", result);
    }

    [Fact]
    public void TextLinksAreRewrittenWithoutTheirTrailingPunctuation()
    {
        var links = new LinkTable();
        var result = LinkRewriter.RewriteText("See https://shop.example/a. Or <https://shop.example/b>, mailto:x@y.example, https://shop.example/unsubscribe",
            url => $"https://t.example/c/{links.IndexOf(url, LinkLocation.Text)}");
        Assert.Equal("See https://t.example/c/0. Or <https://t.example/c/1>, mailto:x@y.example, https://shop.example/unsubscribe", result);
        Assert.All(links.Links, l => Assert.Equal(LinkLocation.Text, l.Location));
    }

    [Fact]
    public void TokensOfTwoSignersVerifiedInTurnOnOneThreadEachVerifyOnlyWithTheirOwnKeys()
    {
        // The signer keeps its keyed HMAC states per thread: alternating signers must not verify with the other's keys.
        var a = new TrackingTokenSigner(Key);
        var b = new TrackingTokenSigner(Enumerable.Repeat((byte)9, 32).ToArray());
        var id = Guid.NewGuid();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(a.TryVerify(a.Open(id, i), TrackingKind.Open, out var t));
            Assert.Equal(i, t.RecipientIndex);
            Assert.False(b.TryVerify(a.Open(id, i), TrackingKind.Open, out _));
            Assert.True(b.TryVerify(b.Open(id, i), TrackingKind.Open, out _));
            Assert.False(a.TryVerify(b.Open(id, i), TrackingKind.Open, out _));
        }
    }

    [Fact]
    public void TheOpenWebhookPayloadIsTheOpenEventAsTheSerializerWritesIt()
    {
        var full = new EngagementEvent
        {
            ServerId = 3, MessageId = Guid.NewGuid(), Stream = "outbound", Tag = "welcome", Recipient = "reader@example.com", Kind = EngagementKind.Open,
            At = 1_764_900_000_123, FirstOpen = true, UserAgent = "Mozilla/5.0 (iPhone) \"quoted\" <é>", Platform = EngagementPlatform.Mobile,
            ClientName = "Apple Mail", ClientCompany = "Apple", ClientFamily = "Apple Mail", OsName = "iOS 17", OsCompany = "Apple", OsFamily = "iOS",
            Ip = "127.0.0.1", CountryIsoCode = "SE", Country = "Sweden", RegionIsoCode = "E", Region = "Östergötland", City = "Linköping",
            Zip = "58", Coords = "58.4,15.6", Machine = true, ReadSeconds = 7,
        };
        var bare = new EngagementEvent { MessageId = Guid.NewGuid(), Stream = "broadcast", Kind = EngagementKind.Open, At = 0 };
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        foreach (var e in new[] { full, bare })
            Assert.Equal(JsonSerializer.SerializeToNode(EngagementRecorder.ToOpen(e))!.ToJsonString(options), EngagementRecorder.OpenPayload(e).ToJsonString(options));
    }

    private static int CountOf(string s, string part) => (s.Length - s.Replace(part, "").Length) / part.Length;
}
