using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Queue;
using Mailroom.Mail.Addresses;
using MimeKit;

namespace Mailroom.Tests.Delivery;

/// <summary>
/// Issue 10, defect 1: one message with many recipients is delivered over several connections at once (relay and
/// direct MX). Every copy on the wire must be the stored signed message byte for byte, whatever the other
/// connections are doing, and every recipient gets exactly one copy. And a round that fails between claim and
/// record gives its claims back at once instead of holding them for the whole lease.
/// </summary>
public sealed class ConcurrentDeliveryTests : IAsyncDisposable
{
    private const int Messages = 12;
    private const int RecipientsPerMessage = 50;
    private const int BodyLines = 300;

    private readonly MxSink _mx = new();
    private SmtpSink Sink => _mx.Sink;

    public ValueTask DisposeAsync() => _mx.DisposeAsync();

    /// <summary>A host delivering direct to two destination domains, both with an MX on the loopback sink: each gets its
    /// own connections.</summary>
    private Task<MailroomHost> StartDirectToTwoDomainsAsync()
    {
        _mx.RouteToSink("one.example", "mx.one.example");
        _mx.RouteToSink("two.example", "mx.two.example");
        return MailroomHost.StartAsync(tweak: _mx.Direct);
    }

    [Fact]
    public async Task ManyRecipientsOverParallelRelayConnectionsGetTheStoredBytesExactlyOnceEach()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{Sink.Port}" });
        await SendDeliverAndCheckAsync(host, _ => "example.net");
    }

    [Fact]
    public async Task ManyRecipientsOverParallelMxConnectionsGetTheStoredBytesExactlyOnceEach()
    {
        await using var host = await StartDirectToTwoDomainsAsync();
        await SendDeliverAndCheckAsync(host, r => r % 2 == 0 ? "one.example" : "two.example");
    }

    /// <summary>
    /// A failure after the claim (here the record transaction, refused by a trigger) must release the claimed rows at
    /// once: the next round takes them again without the clock moving, so they are not stuck for the 10-minute lease.
    /// </summary>
    [Fact]
    public async Task ARoundThatFailsReleasesItsClaimsAtOnce()
    {
        await using var host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{Sink.Port}" });
        var t = await host.CreateTenantAsync();
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "a@example.net, b@example.net", Subject = "x", TextBody = "Hi" }).OkJson();
        var id = Guid.Parse(r.GetProperty("MessageID").GetString()!);
        await host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        var runner = host.App.Services.GetRequiredService<DeliveryRunner>();

        await ExecuteAsync(host, TestDatabase.IsPostgres
            ? ["CREATE FUNCTION injected_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
               "CREATE TRIGGER injected_failure BEFORE INSERT ON message_events FOR EACH ROW EXECUTE FUNCTION injected_failure()"]
            : ["CREATE TRIGGER injected_failure BEFORE INSERT ON message_events BEGIN SELECT RAISE(ABORT, 'injected failure'); END"]);
        await Assert.ThrowsAnyAsync<Exception>(() => runner.RunOnceAsync(CancellationToken.None));
        Assert.Equal(2, Sink.Messages.Count); // sent, but the outcome could not be recorded

        var rows = await DeliveriesAsync(host, id);
        Assert.All(rows, d =>
        {
            Assert.Equal(DeliveryState.Pending, d.State);
            Assert.Null(d.LeaseOwner);
            Assert.Equal(0, d.LeaseUntil);
        });

        await ExecuteAsync(host, ["DROP TRIGGER injected_failure" + (TestDatabase.IsPostgres ? " ON message_events" : "")]);
        // Same instant: no lease has expired, the rows are claimable because they were released.
        Assert.Equal(2, await runner.RunOnceAsync(CancellationToken.None));
        Assert.All(await DeliveriesAsync(host, id), d => Assert.Equal(DeliveryState.Delivered, d.State));
        // At least once: the unrecorded first copies are sent again.
        Assert.Equal(4, Sink.Messages.Count);
    }

    /// <summary>
    /// An unexpected exception in one lane (here the VERP encoding of a message whose stored return-path domain is
    /// broken) stops that lane only: the other destination's copy is delivered and recorded (so not sent twice), the
    /// failed lane's claims are released at once, and the round reports the failure.
    /// </summary>
    [Fact]
    public async Task ALaneThatFailsReleasesItsClaimsWhileTheOtherLanesAreRecorded()
    {
        await using var host = await StartDirectToTwoDomainsAsync();
        var t = await host.CreateTenantAsync();
        var good = Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "a@one.example", TextBody = "A" }).OkJson()).GetProperty("MessageID").GetString()!);
        var bad = Guid.Parse((await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = "b@two.example", TextBody = "B" }).OkJson()).GetProperty("MessageID").GetString()!);
        await host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
        string returnPath = "";
        await host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            returnPath = await db.OutboundMessages.Where(m => m.Id == bad).Select(m => m.ReturnPathDomain).SingleAsync();
            return await db.OutboundMessages.Where(m => m.Id == bad).ExecuteUpdateAsync(u => u.SetProperty(m => m.ReturnPathDomain, "not a domain"));
        });
        var runner = host.App.Services.GetRequiredService<DeliveryRunner>();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => runner.RunOnceAsync(CancellationToken.None));
        Assert.Equal(DeliveryState.Delivered, Assert.Single(await DeliveriesAsync(host, good)).State);
        var released = Assert.Single(await DeliveriesAsync(host, bad));
        Assert.Equal(DeliveryState.Pending, released.State);
        Assert.Null(released.LeaseOwner);
        Assert.Equal(0, released.LeaseUntil);

        await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.Where(m => m.Id == bad)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.ReturnPathDomain, returnPath)));
        Assert.Equal(1, await runner.RunOnceAsync(CancellationToken.None)); // same instant: released, not waiting for the lease
        Assert.Equal(DeliveryState.Delivered, Assert.Single(await DeliveriesAsync(host, bad)).State);
        Assert.Equal(["a@one.example", "b@two.example"], Sink.Messages.SelectMany(m => m.Recipients).Order(StringComparer.Ordinal));
    }

    private static Task<List<RecipientDelivery>> DeliveriesAsync(MailroomHost host, Guid id) =>
        host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.AsNoTracking().Where(d => d.MessageId == id).ToListAsync());

    private static Task<int> ExecuteAsync(MailroomHost host, string[] statements) => host.ScopedAsync(async sp =>
    {
        var db = sp.GetRequiredService<MailroomDb>();
        foreach (var s in statements)
            await db.Database.ExecuteSqlRawAsync(s);
        return 0;
    });

    /// <summary>What a test submitted for one message: its text body and attachment bytes by name.</summary>
    private sealed record Submitted(string Body, Dictionary<string, byte[]> Attachments, string[] Recipients);

    private async Task SendDeliverAndCheckAsync(MailroomHost host, Func<int, string> domainOf)
    {
        var t = await host.CreateTenantAsync();
        var submitted = new Dictionary<Guid, Submitted>();
        for (var m = 0; m < Messages; m++)
        {
            var recipients = Enumerable.Range(0, RecipientsPerMessage).Select(r => $"m{m}-r{r}@{domainOf(r)}").ToArray();
            var body = Body(m);
            var attachments = new Dictionary<string, byte[]>();
            if (m % 3 == 0)
            {
                attachments["report.pdf"] = Enumerable.Range(0, 30_000).Select(i => (byte)(i * 7 + m)).ToArray();
                attachments["notes.txt"] = Encoding.UTF8.GetBytes($"notes of message {m}\n" + string.Join("\n", Enumerable.Range(0, 100).Select(i => $"note {i}")));
            }
            var res = await t.ServerApi.PostAsJsonAsync("/email", new
            {
                From = "app@mailroom.test",
                To = string.Join(", ", recipients),
                Subject = $"Message {m}",
                TextBody = body,
                Attachments = attachments.Select(a => new { Name = a.Key, Content = Convert.ToBase64String(a.Value), ContentType = a.Key.EndsWith(".pdf") ? "application/pdf" : "text/plain" }).ToArray(),
            }).OkJson();
            submitted[Guid.Parse(res.GetProperty("MessageID").GetString()!)] = new Submitted(body, attachments, recipients);
        }

        var preparer = host.App.Services.GetRequiredService<MessagePreparer>();
        while (await preparer.RunOnceAsync(CancellationToken.None) > 0) { }
        var runner = host.App.Services.GetRequiredService<DeliveryRunner>();
        while (await runner.RunOnceAsync(CancellationToken.None) > 0) { }

        var stored = await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
            .Where(m => m.Mime != null).ToDictionaryAsync(m => m.Id, m => m.Mime!));
        var copies = Sink.Messages.ToList();
        var problems = new List<string>();
        var corrupted = 0;
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var copy in copies)
        {
            Assert.True(Verp.TryDecode(copy.MailFrom, out var verp), copy.MailFrom);
            var recipient = Assert.Single(copy.Recipients);
            seen[recipient] = seen.GetValueOrDefault(recipient) + 1;
            var expected = submitted[verp.MessageId];
            Assert.Equal(expected.Recipients[verp.RecipientIndex], recipient, StringComparer.OrdinalIgnoreCase);
            var bad = Check(FromFirstHeader(copy.Data), stored[verp.MessageId], expected);
            if (bad is not null)
            {
                corrupted++;
                if (problems.Count < 5)
                    problems.Add($"{recipient}: {bad}");
            }
        }
        TestContext.Current.SendDiagnosticMessage($"{copies.Count} copies over {Sink.SessionCount} connections, {corrupted} corrupted");
        Assert.True(corrupted == 0, $"{corrupted} of {copies.Count} copies differ from the stored message:\n" + string.Join("\n", problems));
        var expectedRecipients = submitted.Values.SelectMany(s => s.Recipients).ToList();
        Assert.Equal(expectedRecipients.Order(StringComparer.OrdinalIgnoreCase), seen.Keys.Order(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        Assert.All(seen, s => Assert.True(s.Value == 1, $"{s.Key} received {s.Value} copies"));
        Assert.True(Sink.SessionCount > 1, "the copies should have gone over several connections");
        var states = await host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.AsNoTracking().Select(d => d.State).ToListAsync());
        Assert.Equal(Messages * RecipientsPerMessage, states.Count(s => s == DeliveryState.Delivered));
    }

    /// <summary>300 distinct numbered lines; every fourth message has some non-ASCII lines (quoted-printable on the wire).</summary>
    private static string Body(int m) => string.Join("\n", Enumerable.Range(0, BodyLines).Select(i =>
        m % 4 == 1 && i % 50 == 7 ? $"message {m} line {i:000}: naïve café — ünïcödé ✓" : $"message {m} line {i:000}: the quick brown fox jumps over the lazy dog"));

    /// <summary>Null when the copy is the stored message byte for byte and decodes to what was submitted; else why not.</summary>
    private static string? Check(byte[] wire, byte[] stored, Submitted expected)
    {
        if (!wire.AsSpan().SequenceEqual(stored))
        {
            var at = wire.AsSpan().CommonPrefixLength(stored);
            return $"bytes differ from offset {at} (wire {wire.Length} bytes, stored {stored.Length}): "
                + $"wire '{Snippet(wire, at)}' stored '{Snippet(stored, at)}'";
        }
        var parsed = MimeMessage.Load(new MemoryStream(wire));
        var text = Normalize(parsed.TextBody);
        if (text != Normalize(expected.Body))
            return "decoded body differs from the submitted one";
        foreach (var (name, content) in expected.Attachments)
        {
            var part = parsed.Attachments.OfType<MimePart>().SingleOrDefault(a => a.FileName == name);
            if (part is null)
                return $"attachment {name} is missing";
            using var decoded = new MemoryStream();
            part.Content!.DecodeTo(decoded);
            if (!decoded.ToArray().AsSpan().SequenceEqual(content))
                return $"attachment {name} differs";
        }
        return null;
    }

    private static string Normalize(string? s) => (s ?? "").Replace("\r\n", "\n").TrimEnd('\n');

    private static string Snippet(byte[] data, int at) =>
        Encoding.ASCII.GetString(data, Math.Max(0, at - 20), Math.Min(60, data.Length - Math.Max(0, at - 20))).Replace("\r", "\\r").Replace("\n", "\\n");

    /// <summary>The copy from its first header on, as Mailroom sent it: the loopback sink adds no trace header, but a
    /// relay may prepend Received lines (RFC 5321 §4.4), which are not part of what Mailroom sent.</summary>
    private static byte[] FromFirstHeader(byte[] data)
    {
        var offset = 0;
        while (StartsWith(data, offset, "Received:") || StartsWith(data, offset, "Return-Path:"))
        {
            // skip the header and its folded continuation lines
            do
            {
                var end = data.AsSpan(offset).IndexOf("\r\n"u8);
                offset = end < 0 ? data.Length : offset + end + 2;
            } while (offset < data.Length && (data[offset] == ' ' || data[offset] == '\t'));
        }
        // The sink (the SmtpServer library) hands over the data without the CRLF that ends the last line, the one the
        // end-of-data marker <CRLF>.<CRLF> shares (RFC 5321 §4.1.1.4): put it back.
        return data.AsSpan(offset).EndsWith("\r\n"u8) ? data[offset..] : [.. data.AsSpan(offset), (byte)'\r', (byte)'\n'];
    }

    private static bool StartsWith(byte[] data, int offset, string name) =>
        data.AsSpan(offset).StartsWith(Encoding.ASCII.GetBytes(name));
}
