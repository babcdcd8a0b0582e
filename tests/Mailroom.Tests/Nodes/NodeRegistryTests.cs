using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;

namespace Mailroom.Tests.Nodes;

/// <summary>
/// Node identity, heartbeat and the claims that follow a node's life (issue 20): the identity is made per process,
/// never read from the data folder; a silent node's claims are released by any other; a round renews its claims'
/// short lease while it sends.
/// </summary>
public sealed class NodeRegistryTests() : RelayedHostTests(sinkTls: false)
{
    private static async Task<Guid> SendAsync(Tenant t, string to)
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = "Hi", TextBody = "Hi" }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    [Fact]
    public void EachProcessMakesItsOwnIdentityAndNeverKeepsItInTheDataFolder()
    {
        var node = Host.App.Services.GetRequiredService<NodeIdentity>();
        Assert.Equal(node.Id, Host.App.Services.GetRequiredService<DeliveryOptions>().NodeId);
        Assert.StartsWith(new string(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray()), node.Id);
        Assert.NotEqual(node.Id, new NodeIdentity().Id);
        Assert.False(File.Exists(Path.Combine(Host.DataDirectory, "node-id")), "the node identity must not live in the data folder");
    }

    [Fact]
    public async Task ASilentNodesClaimsAreReleasedAndALiveNodesAreKept()
    {
        var t = await Host.CreateTenantAsync();
        var orphan = await SendAsync(t, "orphan@example.net");
        var held = await SendAsync(t, "held@example.net");
        await PrepareAsync();
        var now = Host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var lease = (long)Host.App.Services.GetRequiredService<DeliveryOptions>().Lease.TotalMilliseconds;
        await Host.ScopedAsync(async sp =>
        {
            var db = sp.GetRequiredService<MailroomDb>();
            db.Nodes.Add(new NodeRecord { Id = "dead-node", StartedAt = now - 3_600_000, LastSeenAt = now - lease - 1 });
            db.Nodes.Add(new NodeRecord { Id = "live-node", StartedAt = now - 3_600_000, LastSeenAt = now - 5_000 });
            await db.SaveChangesAsync();
            await db.Deliveries.Where(d => d.MessageId == orphan)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseOwner, "dead-node").SetProperty(d => d.LeaseUntil, now + lease / 2));
            await db.Deliveries.Where(d => d.MessageId == held)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseOwner, "live-node").SetProperty(d => d.LeaseUntil, now + lease / 2));
            return 0;
        });
        Assert.Equal(0, await DeliverAsync()); // both leased

        var (released, nodes) = await Host.ScopedAsync(sp =>
            sp.GetRequiredService<NodeRegistry>().ReleaseDeadNodesAsync(sp.GetRequiredService<MailroomDb>(), CancellationToken.None));

        Assert.Equal((1, 1), (released, nodes));
        var ids = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Nodes.Select(n => n.Id).ToListAsync());
        Assert.Contains("live-node", ids);
        Assert.DoesNotContain("dead-node", ids);
        Assert.Equal(1, await DeliverAsync());
        Assert.Equal(["orphan@example.net"], Assert.Single(Sink.Messages).Recipients);
    }

    [Fact]
    public async Task AHeartbeatKeepsTheNodeAliveAndItsRowCurrent()
    {
        var registry = Host.App.Services.GetRequiredService<NodeRegistry>();
        var node = Host.App.Services.GetRequiredService<NodeIdentity>();
        await Host.ScopedAsync(async sp => { await registry.BeatAsync(sp.GetRequiredService<MailroomDb>(), "api", CancellationToken.None); return 0; });
        Host.Clock.Advance(TimeSpan.FromSeconds(30));
        await Host.ScopedAsync(async sp => { await registry.BeatAsync(sp.GetRequiredService<MailroomDb>(), "api", CancellationToken.None); return 0; });
        var row = await Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Nodes.AsNoTracking().SingleAsync(n => n.Id == node.Id));
        Assert.Equal(Host.Clock.GetUtcNow().ToUnixTimeMilliseconds(), row.LastSeenAt);
        Assert.True(row.StartedAt < row.LastSeenAt);
        // Another node's sweep never removes a node that beats.
        var (_, removed) = await Host.ScopedAsync(sp => registry.ReleaseDeadNodesAsync(sp.GetRequiredService<MailroomDb>(), CancellationToken.None));
        Assert.Equal(0, removed);
    }

    [Fact]
    public async Task ARoundRenewsTheLeaseOfItsClaimsWhileItSends()
    {
        var options = Host.App.Services.GetRequiredService<DeliveryOptions>();
        Assert.Equal(TimeSpan.FromSeconds(60), options.Lease);
        var t = await Host.CreateTenantAsync();
        var id = await SendAsync(t, "slow@example.net");
        await PrepareAsync();
        using var gate = new ManualResetEventSlim();
        var atRcpt = new TaskCompletionSource();
        Sink.RecipientReply = _ => { atRcpt.TrySetResult(); gate.Wait(TimeSpan.FromMinutes(1)); return null; };
        var claimedAt = Host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var round = DeliverAsync();
        await atRcpt.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Task<long> LeaseUntil() => Host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.Where(d => d.MessageId == id).Select(d => d.LeaseUntil).SingleAsync());
        Assert.Equal(claimedAt + 60_000, await LeaseUntil());

        Host.Clock.Advance(options.LeaseRenewal);
        await Eventually.True(async () => await LeaseUntil() == claimedAt + 20_000 + 60_000, because: "the lease is pushed forward while the SMTP session lasts");
        Host.Clock.Advance(options.LeaseRenewal);
        await Eventually.True(async () => await LeaseUntil() == claimedAt + 40_000 + 60_000, because: "and again at the next renewal");

        gate.Set();
        Assert.Equal(1, await round);
        Assert.Equal(0, await LeaseUntil()); // recorded: no longer leased
        Assert.Single(Sink.Messages);
    }
}
