using Mailroom.Cli;
using Mailroom.Core.Identities;
using MimeKit;

namespace Mailroom.Tests.Delivery;

/// <summary>
/// Delivery through DNS: a loopback DNS server answers MX and A records pointing at a loopback SMTP sink. The
/// delivered messages' DKIM signatures are checked by an independent verifier (Debian's python3-dkim), not MimeKit.
/// </summary>
public sealed class MxDeliveryTests : HostTests
{
    private readonly MxSink _mx = new();

    protected override MailroomSettings Configure(MailroomSettings settings) => _mx.Direct(settings);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _mx.DisposeAsync();
    }

    private async Task<JsonElement> LastEventAsync(Tenant t, string id)
    {
        var d = await t.ServerApi.GetAsync($"/messages/outbound/{id}/details").OkJson();
        return d.GetProperty("MessageEvents").EnumerateArray().Last();
    }

    [Fact]
    public async Task DeliversToTheMxHostByPreferenceAndToTheImplicitMx()
    {
        _mx.Dns.AddMx("example.net", "mx2.example.net", 20);
        _mx.Dns.AddA("mx2.example.net", IPAddress.Parse("127.0.0.2"));
        _mx.RouteToSink("example.net", "mx1.example.net", 10);
        _mx.Dns.AddA("implicit.example", IPAddress.Loopback); // no MX: RFC 5321 §5.1 implicit MX
        var t = await Host.CreateTenantAsync();
        var a = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "jo@example.net", TextBody = "x" }).OkJson();
        var b = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "al@implicit.example", TextBody = "y" }).OkJson();
        await RunPipelineAsync();
        Assert.Equal(2, _mx.Sink.Messages.Count);
        var ea = await LastEventAsync(t, a.GetProperty("MessageID").GetString()!);
        Assert.Equal("Delivered", ea.GetProperty("Type").GetString());
        Assert.Equal("mx1.example.net", ea.GetProperty("Details").GetProperty("DestinationServer").GetString());
        var eb = await LastEventAsync(t, b.GetProperty("MessageID").GetString()!);
        Assert.Equal("implicit.example", eb.GetProperty("Details").GetProperty("DestinationServer").GetString());
    }

    [Fact]
    public async Task ANonexistentDomainBouncesAtOnceAndAnUnreachableMxIsRetried()
    {
        _mx.Dns.AddMx("dead.example", "mx.dead.example");
        _mx.Dns.AddA("mx.dead.example", IPAddress.Parse("127.0.0.3")); // nothing listens there on the sink's port
        var t = await Host.CreateTenantAsync();
        var nx = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "x@nonexistent.example", TextBody = "x" }).OkJson();
        var dead = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "x@dead.example", TextBody = "x" }).OkJson();
        await RunPipelineAsync();
        var enx = await LastEventAsync(t, nx.GetProperty("MessageID").GetString()!);
        Assert.Equal("Bounced", enx.GetProperty("Type").GetString());
        Assert.Contains("NXDOMAIN", enx.GetProperty("Details").GetProperty("DeliveryMessage").GetString());
        var edead = await LastEventAsync(t, dead.GetProperty("MessageID").GetString()!);
        Assert.Equal("Transient", edead.GetProperty("Type").GetString());
    }

    public static TheoryData<string> Shapes => new() { "plain", "attachments", "unicode", "long-lines" };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task PlatformSignedMessagesVerifyWithAnIndependentVerifier(string shape)
    {
        _mx.RouteToSink("example.net", "mx1.example.net");
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/email", Message(shape, "Shop <shop@mailroom.test>")).OkJson();
        await RunPipelineAsync();
        var delivered = Assert.Single(_mx.Sink.Messages);
        // The wire carries the stored signed message byte for byte (the sink drops the CRLF that the end-of-data
        // marker shares, RFC 5321 §4.1.1.4): nothing re-encoded on the way, whatever the shape.
        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().Select(m => m.Mime).SingleAsync());
        Assert.Equal(stored, (byte[])[.. delivered.Data, (byte)'\r', (byte)'\n']);
        // ... because Preparation stored it 7-bit clean with short lines (RFC 5321 §4.5.3.1.6: 998 octets), any server takes it as it is.
        Assert.True(stored!.All(b => b < 128), "the stored message has 8-bit bytes");
        Assert.True(Encoding.ASCII.GetString(stored!).Split("\r\n").All(l => l.Length <= 998), "the stored message has a line over 998 octets");
        var key = await Host.ScopedAsync(sp => sp.GetRequiredService<DkimKeyStore>().PlatformKeyAsync());
        var signature = MimeMessage.Load(new MemoryStream(delivered.Data)).Headers[HeaderId.DkimSignature];
        Assert.Contains("d=mailroom.test", signature);
        Assert.Equal("pass", await VerifyAsync(delivered.Data, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
        // The verifier can fail: a changed body does not verify.
        var tampered = Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(delivered.Data).Replace("Hello", "Jello"));
        Assert.Equal("fail", await VerifyAsync(tampered, $"k=rsa; p={key.PublicKey}", $"{key.Selector}._domainkey.mailroom.test"));
    }

    [Fact]
    public async Task AVerifiedCustomerDomainSignsWithItsOwnKey()
    {
        _mx.RouteToSink("example.net", "mx1.example.net");
        var t = await Host.CreateTenantAsync();
        var domain = await t.AccountApi.PostAsJsonAsync("/domains", new { Name = "customer.example" }).OkJson();
        var host = domain.GetProperty("DKIMPendingHost").GetString()!;
        var txt = domain.GetProperty("DKIMPendingTextValue").GetString()!;
        _mx.Dns.AddTxt(host, txt);
        var verified = await t.AccountApi.PutAsync($"/domains/{domain.GetProperty("ID").GetInt32()}/verifyDkim", null).OkJson();
        Assert.True(verified.GetProperty("DKIMVerified").GetBoolean());
        await t.ServerApi.PostAsJsonAsync("/email", Message("attachments", "billing@customer.example")).OkJson();
        await RunPipelineAsync();
        var delivered = Assert.Single(_mx.Sink.Messages);
        Assert.Contains("d=customer.example", MimeMessage.Load(new MemoryStream(delivered.Data)).Headers[HeaderId.DkimSignature]);
        Assert.Equal("pass", await VerifyAsync(delivered.Data, txt, host));
    }

    private static object Message(string shape, string from) => shape switch
    {
        "attachments" => new
        {
            From = from, To = "jo@example.net", Subject = "Hello with files", TextBody = "Hello, see attached.",
            HtmlBody = "<p>Hello <img src=\"cid:logo\"></p>",
            Attachments = new object[]
            {
                new { Name = "report.pdf", Content = Convert.ToBase64String(Enumerable.Range(0, 20000).Select(i => (byte)i).ToArray()), ContentType = "application/pdf" },
                new { Name = "logo.png", Content = Convert.ToBase64String([137, 80, 78, 71, 13, 10, 26, 10]), ContentType = "image/png", ContentID = "cid:logo" },
            },
        },
        "unicode" => new { From = from, To = "Zoë Ünïcode <jo@example.net>", Subject = "Hello — ünïcödé ✓ 日本語", TextBody = "Hello, naïve café — 日本語のテキスト", HtmlBody = "<p>Hello ✓</p>" },
        "long-lines" => new { From = from, To = "jo@example.net", Subject = "Hello long", TextBody = "Hello " + new string('x', 5000) + "\n" + string.Concat(Enumerable.Repeat("word ", 2000)) },
        _ => new { From = from, To = "jo@example.net", Subject = "Hello", TextBody = "Hello there" },
    };

    private static Task<string> VerifyAsync(byte[] message, string txt, string dnsName) => PythonDkim.VerifyAsync(message, txt, dnsName);
}
