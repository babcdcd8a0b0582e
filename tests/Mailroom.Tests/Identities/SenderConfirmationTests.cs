using Mailroom.Core.Preparation;
using System.Text.RegularExpressions;
using Mailroom.Core.Identities;
using Mailroom.Core.Queue;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Mailroom.Tests.Identities;

/// <summary>The emailed confirmation of a sender signature, end to end: the queued message, the link, the page.</summary>
public sealed partial class SenderConfirmationTests() : AccountHostTests("Acme Shop")
{
    [GeneratedRegex(@"http://mailroom\.test/senders/confirm/([A-Za-z0-9_-]+)")]
    private static partial Regex Link();

    private async Task<JsonElement> CreateAsync(string email = "jane@shop.example", string? note = null) =>
        await AccountApi.PostAsJsonAsync("/senders", new { FromEmail = email, Name = "Jane Doe", ConfirmationPersonalNote = note }).OkJson();

    private Task<List<OutboundMessage>> ConfirmationsSentToAsync(string email) =>
        Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            // Accepted messages list their envelope recipients; delivery rows come later, from Preparation.
            var quoted = System.Text.Json.JsonSerializer.Serialize(email);
            return await db.OutboundMessages.Where(m => m.ServerId == null && m.RecipientsJson.Contains(quoted)).OrderBy(m => m.ReceivedAt).ToListAsync();
        });

    private static string LinkIn(OutboundMessage m)
    {
        var message = MimeMessage.Load(new MemoryStream(m.Mime!));
        var text = Link().Match(message.TextBody ?? "");
        Assert.True(text.Success, "no link in the text body");
        Assert.Contains(text.Value, message.HtmlBody);
        return text.Value;
    }

    private async Task<(HttpStatusCode Status, string Html)> OpenAsync(string link)
    {
        var res = await Host.Client().GetAsync(new Uri(link).PathAndQuery);
        Assert.Equal("text/html", res.Content.Headers.ContentType?.MediaType);
        return (res.StatusCode, await res.Content.ReadAsStringAsync());
    }

    private async Task<bool> ConfirmedAsync(int id) => (await AccountApi.GetAsync($"/senders/{id}").OkJson()).GetProperty("Confirmed").GetBoolean();

    [Fact]
    public async Task CreatingASignatureQueuesAConfirmationEmailWhoseLinkConfirmsIt()
    {
        var created = await CreateAsync(note: "Hi Jane, <b>this</b> is Bob from IT & ops.");
        var id = created.GetProperty("ID").GetInt32();
        Assert.False(created.GetProperty("Confirmed").GetBoolean());

        var sent = Assert.Single(await ConfirmationsSentToAsync("jane@shop.example"));
        Assert.Null(sent.ServerId);
        Assert.Equal(MessageStatus.Queued, sent.Status);
        Assert.Equal(SenderConfirmationEmail.Tag, sent.Tag);
        var message = MimeMessage.Load(new MemoryStream(sent.Mime!));
        Assert.Equal("confirm@mailroom.test", message.From.Mailboxes.Single().Address);
        Assert.Equal("jane@shop.example", message.To.Mailboxes.Single().Address);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
        Assert.Contains("Acme Shop", message.TextBody);
        Assert.Contains("Hi Jane, <b>this</b> is Bob from IT & ops.", message.TextBody);
        Assert.Contains("Hi Jane, &lt;b&gt;this&lt;/b&gt; is Bob from IT &amp; ops.", message.HtmlBody);
        Assert.DoesNotContain("<b>this</b>", message.HtmlBody);
        Assert.Equal("pm-bounces.mailroom.test", sent.ReturnPathDomain);

        var link = LinkIn(sent);
        Assert.True(link.Length > "http://mailroom.test/senders/confirm/".Length + 40, "a token of 256 bits");
        var tokenHashes = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().SenderConfirmations.Select(c => c.TokenHash).ToListAsync());
        Assert.DoesNotContain(tokenHashes, h => link.EndsWith(h, StringComparison.Ordinal)); // stored hashed

        var (status, html) = await OpenAsync(link);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Sender confirmed", html);
        Assert.Contains("jane@shop.example", html);
        Assert.True(await ConfirmedAsync(id));

        // The link is single use.
        (status, html) = await OpenAsync(link);
        Assert.Equal(HttpStatusCode.Gone, status);
        Assert.Contains("already been used", html);
        Assert.True(await ConfirmedAsync(id));

        // Once confirmed, there is nothing to resend.
        await AccountApi.PostAsync($"/senders/{id}/resend", null).Error(422, 506);
    }

    [Fact]
    public async Task AnExpiredLinkIsRefused()
    {
        var id = (await CreateAsync()).GetProperty("ID").GetInt32();
        var link = LinkIn(Assert.Single(await ConfirmationsSentToAsync("jane@shop.example")));
        Host.Clock.Advance(TimeSpan.FromHours(48));
        var (status, html) = await OpenAsync(link);
        Assert.Equal(HttpStatusCode.Gone, status);
        Assert.Contains("expired", html);
        Assert.False(await ConfirmedAsync(id));
    }

    [Fact]
    public async Task ALinkWorksUntilItsLifetimeEnds()
    {
        var id = (await CreateAsync()).GetProperty("ID").GetInt32();
        var link = LinkIn(Assert.Single(await ConfirmationsSentToAsync("jane@shop.example")));
        Host.Clock.Advance(TimeSpan.FromHours(48) - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(link)).Status);
        Assert.True(await ConfirmedAsync(id));
    }

    [Fact]
    public async Task ResendSendsANewLinkAndTheOldOneStopsWorking()
    {
        var id = (await CreateAsync()).GetProperty("ID").GetInt32();
        var first = LinkIn(Assert.Single(await ConfirmationsSentToAsync("jane@shop.example")));
        Host.Clock.Advance(TimeSpan.FromMinutes(5));
        var done = await AccountApi.PostAsync($"/senders/{id}/resend", null).OkJson();
        Assert.Equal(0, done.GetProperty("ErrorCode").GetInt32());
        Assert.Contains("jane@shop.example", done.GetProperty("Message").GetString());

        var sent = await ConfirmationsSentToAsync("jane@shop.example");
        Assert.Equal(2, sent.Count);
        var second = LinkIn(sent[1]);
        Assert.NotEqual(first, second);

        var (status, html) = await OpenAsync(first);
        Assert.Equal(HttpStatusCode.Gone, status);
        Assert.Contains("newer confirmation link", html);
        Assert.False(await ConfirmedAsync(id));

        Assert.Equal(HttpStatusCode.OK, (await OpenAsync(second)).Status);
        Assert.True(await ConfirmedAsync(id));
    }

    [Theory]
    [InlineData("/senders/confirm/not-a-token")]
    [InlineData("/senders/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task AnUnknownLinkShowsAnUnknownPage(string path)
    {
        var res = await Host.Client().GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        Assert.Contains("Unknown link", await res.Content.ReadAsStringAsync());
        Assert.Equal("no-store", res.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task ADeletedSignaturesLinkIsUnknown()
    {
        var id = (await CreateAsync()).GetProperty("ID").GetInt32();
        var link = LinkIn(Assert.Single(await ConfirmationsSentToAsync("jane@shop.example")));
        await AccountApi.DeleteAsync($"/senders/{id}").OkJson();
        Assert.Equal(HttpStatusCode.NotFound, (await OpenAsync(link)).Status);
    }

    [Fact]
    public async Task TheConfirmationEmailCarriesAValidDkimSignatureOfThePlatformDomain()
    {
        await CreateAsync();
        // Queued unsigned; Preparation signs it once, with the platform key, as all the platform's own mail.
        Assert.Equal(-1, MimeMessage.Load(new MemoryStream(Assert.Single(await ConfirmationsSentToAsync("jane@shop.example")).Mime!)).Headers.IndexOf(HeaderId.DkimSignature));
        Assert.Equal(1, await Host.ScopedAsync(sp => sp.GetRequiredService<MessagePreparer>().RunOnceAsync(TestContext.Current.CancellationToken)));
        var sent = Assert.Single(await ConfirmationsSentToAsync("jane@shop.example"));
        var message = MimeMessage.Load(new MemoryStream(sent.Mime!));
        Assert.Single(message.Headers, h => h.Id == HeaderId.DkimSignature);
        var header = message.Headers[HeaderId.DkimSignature];
        Assert.Contains("d=mailroom.test", header);
        var record = (await Host.ScopedAsync(sp => sp.GetRequiredService<PlatformDnsRecords>().ListAsync())).First(r => r.Name.Contains("._domainkey."));
        Assert.Contains("s=" + record.Name.Split('.')[0], header);
        var verifier = new DkimVerifier(new OneKeyLocator(record.Value));
        Assert.True(await verifier.VerifyAsync(message, message.Headers[message.Headers.IndexOf(HeaderId.DkimSignature)], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task WithoutAPlatformDomainTheEmailComesFromThePublicHostUnsigned()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { PlatformDomain = null });
        var api = host.AccountClient((await host.CreateAccountAsync()).AccountToken);
        await api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        var mime = await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.Select(m => m.Mime).SingleAsync());
        var message = MimeMessage.Load(new MemoryStream(mime!));
        Assert.Equal("no-reply@mailroom.test", message.From.Mailboxes.Single().Address);
        Assert.Equal(-1, message.Headers.IndexOf(HeaderId.DkimSignature));
    }

    [Fact]
    public async Task TheLinkLifetimeIsASetting()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { SenderConfirmationLifetime = TimeSpan.FromHours(2) });
        var api = host.AccountClient((await host.CreateAccountAsync()).AccountToken);
        await api.PostAsJsonAsync("/senders", new { FromEmail = "jane@shop.example", Name = "Jane" }).OkJson();
        var confirmation = await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().SenderConfirmations.SingleAsync());
        Assert.Equal(TimeSpan.FromHours(2), confirmation.ExpiresAt - confirmation.CreatedAt);
    }

    /// <summary>Answers every key lookup with one DKIM TXT record (as DNS would for the platform's selector).</summary>
    private sealed class OneKeyLocator(string txt) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(txt);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(txt));
    }
}
