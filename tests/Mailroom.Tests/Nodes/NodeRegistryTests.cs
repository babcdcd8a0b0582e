using System.Net.Http.Json;
using Mailroom.Core.Delivery;
using Mailroom.Core.Preparation;
using Mailroom.Core.Storage;
using Mailroom.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Mailroom.Tests.Nodes;

/// <summary>
/// Node identity, heartbeat and the claims that follow a node's life (issue 20): the identity is made per process,
/// never read from the data folder; a silent node's claims are released by any other; a round renews its claims'
/// short lease while it sends.
/// </summary>
public sealed class NodeRegistryTests : IAsyncLifetime
{
    private SmtpSink _sink = null!;
    private MailroomHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _sink = new SmtpSink(tls: false);
        _host = await MailroomHost.StartAsync(tweak: s => s with { Relay = $"127.0.0.1:{_sink.Port}" });
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _sink.DisposeAsync();
    }

    private Task<int> PrepareAsync() => _host.App.Services.GetRequiredService<MessagePreparer>().RunOnceAsync(CancellationToken.None);
    private Task<int> DeliverAsync() => _host.App.Services.GetRequiredService<DeliveryRunner>().RunOnceAsync(CancellationToken.None);

    private static async Task<Guid> SendAsync(Tenant t, string to)
    {
        var r = await t.ServerApi.PostAsJsonAsync("/email", new { From = "app@mailroom.test", To = to, Subject = "Hi", TextBody = "Hi" }).OkJson();
        return Guid.Parse(r.GetProperty("MessageID").GetString()!);
    }

    [Fact]
    public void EachProcessMakesItsOwnIdentityAndNeverKeepsItInTheDataFolder()
    {
        var node = _host.App.Services.GetRequiredService<NodeIdentity>();
        Assert.Equal(node.Id, _host.App.Services.GetRequiredService<DeliveryOptions>().NodeId);
        Assert.StartsWith(new string(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray()), node.Id);
        Assert.NotEqual(node.Id, new NodeIdentity().Id);
        Assert.False(File.Exists(Path.Combine(_host.DataDirectory, "node-id")), "the node identity must not live in the data folder");
    }

    [Fact]
    public async Task ASilentNodesClaimsAreReleasedAndALiveNodesAreKept()
    {
        var t = await _host.CreateTenantAsync();
        var orphan = await SendAsync(t, "orphan@example.net");
        var held = await SendAsync(t, "held@example.net");
        await PrepareAsync();
        var now = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var lease = (long)_host.App.Services.GetRequiredService<DeliveryOptions>().Lease.TotalMilliseconds;
        await _host.ScopedAsync(async sp =>
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

        var (released, nodes) = await _host.ScopedAsync(sp =>
            sp.GetRequiredService<NodeRegistry>().ReleaseDeadNodesAsync(sp.GetRequiredService<MailroomDb>(), CancellationToken.None));

        Assert.Equal((1, 1), (released, nodes));
        var ids = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Nodes.Select(n => n.Id).ToListAsync());
        Assert.Contains("live-node", ids);
        Assert.DoesNotContain("dead-node", ids);
        Assert.Equal(1, await DeliverAsync());
        Assert.Equal(["orphan@example.net"], Assert.Single(_sink.Messages).Recipients);
    }

    [Fact]
    public async Task AHeartbeatKeepsTheNodeAliveAndItsRowCurrent()
    {
        var registry = _host.App.Services.GetRequiredService<NodeRegistry>();
        var node = _host.App.Services.GetRequiredService<NodeIdentity>();
        await _host.ScopedAsync(async sp => { await registry.BeatAsync(sp.GetRequiredService<MailroomDb>(), "api", CancellationToken.None); return 0; });
        _host.Clock.Advance(TimeSpan.FromSeconds(30));
        await _host.ScopedAsync(async sp => { await registry.BeatAsync(sp.GetRequiredService<MailroomDb>(), "api", CancellationToken.None); return 0; });
        var row = await _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Nodes.AsNoTracking().SingleAsync(n => n.Id == node.Id));
        Assert.Equal(_host.Clock.GetUtcNow().ToUnixTimeMilliseconds(), row.LastSeenAt);
        Assert.True(row.StartedAt < row.LastSeenAt);
        // Another node's sweep never removes a node that beats.
        var (_, removed) = await _host.ScopedAsync(sp => registry.ReleaseDeadNodesAsync(sp.GetRequiredService<MailroomDb>(), CancellationToken.None));
        Assert.Equal(0, removed);
    }

    [Fact]
    public async Task ARoundRenewsTheLeaseOfItsClaimsWhileItSends()
    {
        var options = _host.App.Services.GetRequiredService<DeliveryOptions>();
        Assert.Equal(TimeSpan.FromSeconds(60), options.Lease);
        var t = await _host.CreateTenantAsync();
        var id = await SendAsync(t, "slow@example.net");
        await PrepareAsync();
        using var gate = new ManualResetEventSlim();
        var atRcpt = new TaskCompletionSource();
        _sink.RecipientReply = _ => { atRcpt.TrySetResult(); gate.Wait(TimeSpan.FromMinutes(1)); return null; };
        var claimedAt = _host.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var round = DeliverAsync();
        await atRcpt.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Task<long> LeaseUntil() => _host.ScopedAsync(sp => sp.GetRequiredService<MailroomDb>().Deliveries.Where(d => d.MessageId == id).Select(d => d.LeaseUntil).SingleAsync());
        Assert.Equal(claimedAt + 60_000, await LeaseUntil());

        _host.Clock.Advance(options.LeaseRenewal);
        await Eventually.True(async () => await LeaseUntil() == claimedAt + 20_000 + 60_000, because: "the lease is pushed forward while the SMTP session lasts");
        _host.Clock.Advance(options.LeaseRenewal);
        await Eventually.True(async () => await LeaseUntil() == claimedAt + 40_000 + 60_000, because: "and again at the next renewal");

        gate.Set();
        Assert.Equal(1, await round);
        Assert.Equal(0, await LeaseUntil()); // recorded: no longer leased
        Assert.Single(_sink.Messages);
    }
}
