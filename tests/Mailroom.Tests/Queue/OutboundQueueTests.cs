using System.Net.Http.Json;
using System.Text.Json;
using Mailroom.Core.Queue;
using Mailroom.Core.Storage;
using Mailroom.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static Mailroom.Tests.Infrastructure.HttpAssertions;

namespace Mailroom.Tests.Queue;

/// <summary>
/// The group commit's pipeline (a gatherer that looks up inactive recipients and builds rows while the committer
/// thread commits the previous group): many callers at once, each answered only after its own rows are stored, each
/// with its own inactive recipients left out, and one caller's bad row failing that caller only.
/// </summary>
public sealed class OutboundQueueTests : HostTests
{
    private static QueuedMessage Queued(Guid id, int serverId, string to) => new(new OutboundMessage
    {
        Id = id,
        ServerId = serverId,
        From = "app@mailroom.test",
        Subject = "group commit",
        ToJson = JsonSerializer.Serialize(new[] { new { Email = to, Name = "" } }),
        Mime = "Subject: group commit\r\n\r\nbody\r\n"u8.ToArray(),
    }, [to]);

    [Fact]
    public async Task ConcurrentSendersAreEachAnsweredOnlyOnceTheirMessageIsStored()
    {
        var t = await Host.CreateTenantAsync();
        var sends = Enumerable.Range(0, 64).Select(i => Task.Run(async () =>
        {
            var answer = await t.ServerApi.PostAsJsonAsync("/email",
                new { From = "app@mailroom.test", To = $"r{i}@example.net", Subject = $"m{i}", TextBody = "x" }).OkJson();
            var id = Guid.Parse(answer.GetProperty("MessageID").GetString()!);
            // Read at once, on another connection: the 200 came after the commit, so the row is there.
            var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
                .Where(m => m.Id == id).Select(m => m.RecipientsJson).SingleOrDefaultAsync());
            return (i, stored);
        })).ToList();
        foreach (var (i, stored) in await Task.WhenAll(sends))
            Assert.Equal([$"r{i}@example.net"], JsonSerializer.Deserialize<List<string>>(stored!));
    }

    [Fact]
    public async Task EachCallerOfAGroupHasItsOwnInactiveRecipientsLeftOut()
    {
        var t = await Host.CreateTenantAsync();
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.Suppressions.Add(new Mailroom.Core.Events.Suppression { ServerId = t.Server.ID, Stream = "outbound", Email = "gone@example.net" });
            return await db.SaveChangesAsync();
        });
        var queue = Host.App.Services.GetRequiredService<OutboundQueue>();
        // Callers at once: the suppressed recipient alone, beside an active one, and only active ones.
        var calls = Enumerable.Range(0, 48).Select(i => (i % 3) switch
        {
            0 => (i, Message: Queued(Guid.NewGuid(), t.Server.ID, "gone@example.net"), Left: new[] { "gone@example.net" }),
            1 => (i, Message: new QueuedMessage(Queued(Guid.NewGuid(), t.Server.ID, "Gone@example.net").Message, ["Gone@example.net", $"ok{i}@example.net"]),
                Left: new[] { "Gone@example.net" }),
            _ => (i, Message: Queued(Guid.NewGuid(), t.Server.ID, $"ok{i}@example.net"), Left: Array.Empty<string>()),
        }).ToList();
        var results = await Task.WhenAll(calls.Select(c => Task.Run(() => queue.EnqueueActiveAsync([c.Message]))));
        var stored = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
            .Where(m => m.ServerId == t.Server.ID).ToDictionaryAsync(m => m.Id, m => m.RecipientsJson));
        for (var k = 0; k < calls.Count; k++)
        {
            var (i, message, left) = calls[k];
            Assert.Equal(left, results[k][0].ToArray());
            if (i % 3 == 0)
                Assert.False(stored.ContainsKey(message.Message.Id)); // nobody left: not stored
            else
                Assert.Equal([$"ok{i}@example.net"], JsonSerializer.Deserialize<List<string>>(stored[message.Message.Id]));
        }
    }

    [Fact]
    public async Task ABadRowFailsOnlyItsOwnCaller()
    {
        var t = await Host.CreateTenantAsync();
        var queue = Host.App.Services.GetRequiredService<OutboundQueue>();
        var taken = Guid.NewGuid();
        await queue.EnqueueAsync([Queued(taken, t.Server.ID, "first@example.net")]);
        // The same MessageID again (a primary-key violation) among good callers sent at the same time.
        var good = Enumerable.Range(0, 40).Select(i => Queued(Guid.NewGuid(), t.Server.ID, $"g{i}@example.net")).ToList();
        var goodSends = good.Select(q => Task.Run(() => queue.EnqueueActiveAsync([q]))).ToList();
        var bad = Task.Run(() => queue.EnqueueActiveAsync([Queued(taken, t.Server.ID, "again@example.net")]));
        await Task.WhenAll(goodSends);
        await Assert.ThrowsAnyAsync<Exception>(() => bad);
        var ids = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
            .Where(m => m.ServerId == t.Server.ID).Select(m => m.Id).ToListAsync());
        Assert.Equal(good.Select(q => q.Message.Id).Append(taken).Order(), ids.Order());
        var first = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().OutboundMessages.AsNoTracking()
            .SingleAsync(m => m.Id == taken));
        Assert.Equal(["first@example.net"], JsonSerializer.Deserialize<List<string>>(first.RecipientsJson));
    }
}
