using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Mailroom.Core.Storage;

/// <summary>
/// This process's name among the nodes sharing one database: made at start (machine name and a random suffix), never
/// read from the data folder. Two processes on one data folder, or a restored backup on a new machine, are two
/// nodes, so neither takes the other's delivery claims for its own.
/// </summary>
public sealed class NodeIdentity
{
    public NodeIdentity() : this($"{Sanitize(Environment.MachineName)}-{Guid.NewGuid().ToString("N")[..8]}") { }

    public NodeIdentity(string id) => Id = id;

    public string Id { get; }

    private static string Sanitize(string name)
    {
        var s = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.').ToArray());
        return s.Length == 0 ? "node" : s.Length > 40 ? s[..40] : s;
    }
}

/// <summary>A row of <c>nodes</c>: a running (or once running) process and its heartbeat.</summary>
public sealed class NodeRecord
{
    public required string Id { get; set; }
    /// <summary>Unix milliseconds.</summary>
    public long StartedAt { get; set; }
    /// <summary>Unix milliseconds of the last heartbeat.</summary>
    public long LastSeenAt { get; set; }
    public string Roles { get; set; } = "";
}

internal sealed class NodeRecordConfiguration : IEntityTypeConfiguration<NodeRecord>
{
    public void Configure(EntityTypeBuilder<NodeRecord> b)
    {
        b.ToTable("nodes");
        b.HasKey(n => n.Id);
        b.Property(n => n.Id).HasMaxLength(64);
        b.Property(n => n.Roles).HasMaxLength(200);
        b.HasIndex(n => n.LastSeenAt);
    }
}

/// <summary>The Data Protection key ring's rows on PostgreSQL (shared by every node; each key's XML is encrypted
/// with the master key).</summary>
internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> b)
    {
        b.ToTable("data_protection_keys");
    }
}

/// <summary>
/// The <c>nodes</c> table: each process registers at start and beats every <see cref="HeartbeatInterval"/>; any node
/// releases the delivery claims of a node whose heartbeat is older than the lease (killed, scaled in, cut off), so its
/// work moves on without waiting for each claim's lease to run out, and forgets that node.
/// </summary>
public sealed class NodeRegistry(NodeIdentity node, Delivery.DeliveryOptions delivery, TimeProvider clock)
{
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A node silent this long is dead: the lease length, so a live node that missed a few beats (a slow
    /// database) still holds claims it renews.</summary>
    public TimeSpan DeadAfter => delivery.Lease;

    /// <summary>Inserts or refreshes this node's row.</summary>
    public async Task BeatAsync(MailroomDb db, string roles, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // One statement (both providers know ON CONFLICT): a first beat racing another never collides on the key.
        await db.Database.ExecuteSqlRawAsync(
            """
            INSERT INTO nodes ("Id", "StartedAt", "LastSeenAt", "Roles") VALUES ({0}, {1}, {1}, {2})
            ON CONFLICT ("Id") DO UPDATE SET "LastSeenAt" = excluded."LastSeenAt"
            """, [node.Id, now, roles], ct);
    }

    /// <summary>Releases the pending claims of nodes silent for longer than <see cref="DeadAfter"/> and removes
    /// those nodes; returns (claims released, nodes removed). Never this node.</summary>
    public async Task<(int Released, int Nodes)> ReleaseDeadNodesAsync(MailroomDb db, CancellationToken ct)
    {
        var cutoff = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)DeadAfter.TotalMilliseconds;
        var dead = await db.Nodes.AsNoTracking().Where(n => n.LastSeenAt < cutoff && n.Id != node.Id).Select(n => n.Id).ToListAsync(ct);
        if (dead.Count == 0)
            return (0, 0);
        var released = await db.Deliveries
            .Where(d => d.State == Queue.DeliveryState.Pending && d.LeaseOwner != null && dead.Contains(d.LeaseOwner))
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
        // Webhook deliveries are claimed as "<node>/<dispatcher>": the same rule, by prefix.
        foreach (var id in dead)
        {
            var prefix = id + "/";
            released += await db.WebhookDeliveries
                .Where(d => d.State == Webhooks.WebhookDeliveryState.Pending && d.LeaseOwner != null && d.LeaseOwner.StartsWith(prefix))
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
        }
        // Only the rows still silent: a node that beat meanwhile stays.
        var removed = await db.Nodes.Where(n => dead.Contains(n.Id) && n.LastSeenAt < cutoff).ExecuteDeleteAsync(ct);
        return (released, removed);
    }

    /// <summary>
    /// SQLite only (one file, one process): every claim not this process's is a previous run's (crashed or killed), so
    /// it is released at start instead of after its lease. Returns how many.
    /// </summary>
    public async Task<int> ReleasePreviousRunAsync(MailroomDb db, CancellationToken ct)
    {
        if (db is not SqliteMailroomDb)
            return 0;
        var released = await db.Deliveries
            .Where(d => d.State == Queue.DeliveryState.Pending && d.LeaseOwner != null && d.LeaseOwner != node.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
        var mine = node.Id + "/";
        return released + await db.WebhookDeliveries
            .Where(d => d.State == Webhooks.WebhookDeliveryState.Pending && d.LeaseOwner != null && !d.LeaseOwner.StartsWith(mine))
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.LeaseUntil, 0L).SetProperty(d => d.LeaseOwner, (string?)null), ct);
    }

    /// <summary>On a clean stop: the row goes, so nobody waits for this node's heartbeat to age.</summary>
    public Task LeaveAsync(MailroomDb db, CancellationToken ct) =>
        db.Nodes.Where(n => n.Id == node.Id).ExecuteDeleteAsync(ct);
}
