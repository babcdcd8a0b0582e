using Mailroom.Core.Queue;
using MimeKit;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Api;

public sealed class EmailApiTests : HostTests
{
    private static object Message(string to = "jo@example.net", string from = "app@mailroom.test") => new
    {
        From = from,
        To = to,
        Subject = "Hello",
        TextBody = "Hi there",
    };

    [Fact]
    public async Task AcceptedMessageIsDurableAndAnsweredLikePostmark()
    {
        var t = await Host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "Shop <shop@mailroom.test>",
            To = "\"Smith, Jo\" <jo@example.net>, al@example.org",
            Cc = "cc@example.net",
            Bcc = "hidden@example.net",
            Subject = "Your order ✓",
            TextBody = "Thanks",
            HtmlBody = "<p>Thanks</p>",
            ReplyTo = "help@mailroom.test",
            Tag = "orders",
            Headers = new[] { new { Name = "X-Order", Value = "42" } },
            Metadata = new Dictionary<string, string> { ["order"] = "42" },
            Attachments = new[] { new { Name = "r.txt", Content = Convert.ToBase64String("receipt"u8.ToArray()), ContentType = "text/plain" } },
        }).OkJson();
        Assert.Equal(0, r.GetProperty("ErrorCode").GetInt32());
        Assert.Equal("OK", r.GetProperty("Message").GetString());
        var id = Guid.Parse(r.GetProperty("MessageID").GetString()!);
        Assert.Equal(r.GetProperty("MessageID").GetString(), id.ToString());
        Assert.Contains("jo@example.net", r.GetProperty("To").GetString());
        Assert.True(DateTimeOffset.TryParse(r.GetProperty("SubmittedAt").GetString(), out _));

        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().SingleAsync(m => m.Id == id));
        Assert.Equal(MessageStage.Accepted, stored.Stage);
        Assert.Equal(["jo@example.net", "al@example.org", "cc@example.net", "hidden@example.net"], JsonSerializer.Deserialize<List<string>>(stored.RecipientsJson));
        var mime = MimeMessage.Load(new MemoryStream(stored.Mime!));
        Assert.Equal("Your order ✓", mime.Subject);
        Assert.Null(mime.Headers[HeaderId.Bcc]);
        Assert.Equal("42", mime.Headers["X-Order"]);
        Assert.Equal("help@mailroom.test", mime.ReplyTo.Mailboxes.Single().Address);
        Assert.Single(mime.Attachments);
    }

    [Fact]
    public async Task MessageIdsAreTimeOrderedUuidsSoNewRowsAppendToTheKeyIndexes()
    {
        var t = await Host.CreateTenantAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            var r = await t.ServerApi.PostAsJsonAsync("/email", Message()).OkJson();
            ids.Add(Guid.Parse(r.GetProperty("MessageID").GetString()!));
            Host.Clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        var batch = await t.ServerApi.PostAsJsonAsync("/email/batch", new[] { Message(), Message() }).OkJson();
        ids.AddRange(batch.EnumerateArray().Select(m => Guid.Parse(m.GetProperty("MessageID").GetString()!)));

        // RFC 9562 §5.7: version 7, the accept time's Unix milliseconds in the first 48 bits.
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        var start = Host.Clock.GetUtcNow().AddMilliseconds(-3).ToUnixTimeMilliseconds();
        Assert.Equal([start, start + 1, start + 2], ids.Take(3).Select(id => Convert.ToInt64(id.ToString("N")[..12], 16)));
        // The stored key's order (SQLite: the upper-case text; PostgreSQL: uuid bytes) follows the accept time.
        Assert.Equal(ids.Take(4).Select(id => id.ToString().ToUpperInvariant()), ids.Take(4).Select(id => id.ToString().ToUpperInvariant()).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("""{"To":"a@example.net","TextBody":"x"}""", 300)]
    [InlineData("""{"From":"not an address","To":"a@example.net","TextBody":"x"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","TextBody":"x"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"bad@","TextBody":"x"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Subject":"a\r\nBcc: victim@example.com"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Headers":[{"Name":"X-A\r\nBcc","Value":"v"}]}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Headers":[{"Name":"X-A","Value":"v\r\nBcc: victim@example.com"}]}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Headers":[{"Name":"DKIM-Signature","Value":"v"}]}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Headers":[{"Name":"X-PM-Tag","Value":"v"}]}""", 300)]
    [InlineData("""{"From":"Evil\r\n <app@mailroom.test>","To":"a@example.net","TextBody":"x"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Metadata":{"k1":"1","k2":"1","k3":"1","k4":"1","k5":"1","k6":"1","k7":"1","k8":"1","k9":"1","k10":"1","k11":"1"}}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Metadata":{"this-key-is-way-too-long":"1"}}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Attachments":[{"Name":"run.exe","Content":"AAAA","ContentType":"application/octet-stream"}]}""", 411)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","Attachments":[{"Name":"a.txt","Content":"not base64!!","ContentType":"text/plain"}]}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","MessageStream":"nope"}""", 1235)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","MessageStream":"inbound"}""", 1236)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":"x","TrackLinks":"Always"}""", 300)]
    [InlineData("""{"From":"app@mailroom.test","To":"a@example.net","TextBody":5}""", 403)]
    [InlineData("""{"From":"app@mailroom.test",""", 402)]
    public async Task InvalidMessagesAreRefusedWithPostmarkCodes(string body, int code)
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsync("/email", JsonBody(body)).Error(422, code);
    }

    [Fact]
    public async Task AJsonBodyStartingWithAUtf8ByteOrderMarkIsReadLikeAnyJson()
    {
        // .NET's Encoding.UTF8 writers emit EF BB BF first; RFC 8259 §8.1 lets a parser ignore it.
        var t = await Host.CreateTenantAsync();
        var json = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"From":"app@mailroom.test","To":"jo@example.net","Subject":"BOM","TextBody":"x"}""")).ToArray();
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new("application/json") { CharSet = "utf-8" };
        var sent = await t.ServerApi.PostAsync("/email", content).OkJson();
        Assert.Equal(0, sent.GetProperty("ErrorCode").GetInt32());

        var batch = new ByteArrayContent(Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""[{"From":"app@mailroom.test","To":"jo@example.net","TextBody":"x"}]""")).ToArray());
        batch.Headers.ContentType = new("application/json");
        Assert.Equal(0, (await t.ServerApi.PostAsync("/email/batch", batch).OkJson())[0].GetProperty("ErrorCode").GetInt32());

        // A BOM and nothing else is an empty body; a BOM before bad JSON is still bad JSON.
        var bad = new ByteArrayContent(Encoding.UTF8.GetPreamble().Concat("{\"From\":"u8.ToArray()).ToArray());
        bad.Headers.ContentType = new("application/json");
        await t.ServerApi.PostAsync("/email", bad).Error(422, 402);
    }

    [Fact]
    public async Task MoreThanFiftyRecipientsAreRefused()
    {
        var t = await Host.CreateTenantAsync();
        var to = string.Join(",", Enumerable.Range(0, 30).Select(i => $"a{i}@example.net"));
        var cc = string.Join(",", Enumerable.Range(0, 21).Select(i => $"c{i}@example.net"));
        var msg = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Cc = cc, TextBody = "x" }).Error(422, 300);
        Assert.Contains("51", msg);
    }

    [Fact]
    public async Task ArchivedStreamCannotSend()
    {
        var t = await Host.CreateTenantAsync();
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "old", Name = "Old", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsync("/message-streams/old/archive", null).OkJson();
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "a@example.net", TextBody = "x", MessageStream = "old" }).Error(422, 1235);
    }

    [Fact]
    public async Task OversizedMessageIsRefused()
    {
        var t = await Host.CreateTenantAsync();
        var big = Convert.ToBase64String(new byte[8 * 1024 * 1024]);
        await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = "a@example.net", TextBody = "x",
            Attachments = new[] { new { Name = "big.bin.txt", Content = big, ContentType = "text/plain" } },
        }).Error(422, 300);
        // A body beyond what any message may be is cut off before it is read whole: HTTP 413.
        var huge = Convert.ToBase64String(new byte[12 * 1024 * 1024]);
        await t.ServerApi.PostAsJsonAsync("/email", new
        {
            From = "app@mailroom.test", To = "a@example.net", TextBody = "x",
            Attachments = new[] { new { Name = "huge.txt", Content = huge, ContentType = "text/plain" } },
        }).Error(413, 300);
    }

    [Fact]
    public async Task BatchAnswersEachMessageInOrderAndOneBadDoesNotFailOthers()
    {
        var t = await Host.CreateTenantAsync();
        var items = await t.ServerApi.PostAsync("/email/batch", JsonBody("""
            [
              {"From":"app@mailroom.test","To":"one@example.net","TextBody":"1"},
              {"From":"app@mailroom.test","To":"bad-address","TextBody":"2"},
              {"From":"app@mailroom.test","To":"three@example.net","TextBody":"3","MessageStream":"nope"},
              {"From":"app@mailroom.test","To":"four@example.net","HtmlBody":"<b>4</b>"}
            ]
            """)).OkJson();
        var list = items.EnumerateArray().ToList();
        Assert.Equal(4, list.Count);
        Assert.Equal(0, list[0].GetProperty("ErrorCode").GetInt32());
        Assert.Equal(300, list[1].GetProperty("ErrorCode").GetInt32());
        Assert.False(list[1].TryGetProperty("MessageID", out _));
        Assert.Equal(1235, list[2].GetProperty("ErrorCode").GetInt32());
        Assert.Equal(0, list[3].GetProperty("ErrorCode").GetInt32());
        Assert.Equal("four@example.net", list[3].GetProperty("To").GetString());
        var count = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.CountAsync(m => m.ServerId == t.Server.ID));
        Assert.Equal(2, count);
    }

    [Fact]
    public async Task BatchOverFiveHundredIsRefused()
    {
        var t = await Host.CreateTenantAsync();
        var batch = Enumerable.Range(0, 501).Select(i => Message($"r{i}@example.net")).ToList();
        await t.ServerApi.PostAsJsonAsync("/email/batch", batch).Error(422, 410);
    }

    [Fact]
    public async Task SuppressedRecipientIsRefusedWith406InItsStreamOnly()
    {
        var t = await Host.CreateTenantAsync();
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.Suppressions.Add(new Mailroom.Core.Events.Suppression { ServerId = t.Server.ID, Stream = "outbound", Email = "gone@example.net" });
            return await db.SaveChangesAsync();
        });
        var msg = await t.ServerApi.PostAsJsonAsync("/email", Message("gone@example.net")).Error(422, 406);
        Assert.Matches("Found inactive addresses: (.+?)\\.? Inactive", msg);
        await t.ServerApi.PostAsJsonAsync("/message-streams", new { ID = "other", Name = "Other", MessageStreamType = "Transactional" }).OkJson();
        await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "gone@example.net", TextBody = "x", MessageStream = "other" }).OkJson();
        // With an active recipient beside it, the message goes to the active one only.
        var mixed = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "Gone@example.net, here@example.net", TextBody = "x" }).OkJson();
        var id = Guid.Parse(mixed.GetProperty("MessageID").GetString()!);
        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking().SingleAsync(m => m.Id == id));
        Assert.Equal(["here@example.net"], JsonSerializer.Deserialize<List<string>>(stored.RecipientsJson));
        // In a batch, the suppressed item gets 406 and the others go.
        var batch = await t.ServerApi.PostAsJsonAsync("/email/batch", new[] { Message("gone@example.net"), Message("ok@example.net") }).OkJson();
        Assert.Equal(406, batch[0].GetProperty("ErrorCode").GetInt32());
        Assert.Equal(0, batch[1].GetProperty("ErrorCode").GetInt32());
    }

    [Fact]
    public async Task SendNeedsAServerToken()
    {
        var t = await Host.CreateTenantAsync();
        await Host.Client().PostAsJsonAsync("/email", Message()).Error(401, 10);
        await t.AccountApi.PostAsJsonAsync("/email", Message()).Error(401, 10);
    }
}
