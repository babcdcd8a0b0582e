using System.Text.Json;
using System.Threading.Channels;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mailroom.Core.Queue;

/// <summary>An accepted message and its envelope recipients, ready to be made durable.</summary>
public sealed record QueuedMessage(OutboundMessage Message, IReadOnlyList<string> Recipients);

/// <summary>
/// The durable front of the outbound queue, with group commit. <see cref="EnqueueAsync"/> and
/// <see cref="EnqueueActiveAsync"/> return only once the message is committed (SQLite WAL with synchronous=FULL, or PostgreSQL's commit: both
/// fsync). Callers that arrive while a commit is in flight are written together in the next one, so under load
/// many requests share one fsync instead of paying one each.
/// Accepted rows are picked up by Preparation (<c>Mailroom.Core.Preparation</c>).
/// </summary>
public sealed class OutboundQueue : IAsyncDisposable
{
    /// <summary>Most messages written in one commit; bounds the transaction and the wait of the last caller.</summary>
    public const int MaxMessagesPerCommit = 2000;

    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger<OutboundQueue> _log;
    private readonly Task _writer;
    private readonly PreparationSignal _prepare;

    public OutboundQueue(IServiceScopeFactory scopes, TimeProvider clock, PreparationSignal prepare, ILogger<OutboundQueue> log)
    {
        _scopes = scopes;
        _prepare = prepare;
        _clock = clock;
        _log = log;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Commits several messages durably, in one commit with whatever else is waiting.</summary>
    public Task EnqueueAsync(IReadOnlyList<QueuedMessage> messages, CancellationToken ct = default) =>
        messages.Count == 0 ? Task.CompletedTask : HandAsync(messages, checkInactive: false);

    /// <summary>
    /// Commits several messages durably, leaving out each one's inactive recipients (suppressed on its server and
    /// stream, spec §7) first. The look-up is made once for everything in the group commit, inside the writer, instead
    /// of once per request. Returns, per message in order, the recipients left out; a message all of whose
    /// recipients are inactive is not stored.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> EnqueueActiveAsync(IReadOnlyList<QueuedMessage> messages, CancellationToken ct = default)
    {
        if (messages.Count == 0)
            return [];
        var pending = await HandAsync(messages, checkInactive: true);
        return pending.Inactive;
    }

    private Task<Pending> HandAsync(IReadOnlyList<QueuedMessage> messages, bool checkInactive)
    {
        foreach (var q in messages)
            Normalize(q);
        var pending = new Pending(messages, checkInactive);
        if (!_pending.Writer.TryWrite(pending))
            throw new InvalidOperationException("The outbound queue is shut down.");
        // The commit is not cancelled with the caller: once handed over, the message is written either way.
        return pending.Done.Task;
    }

    /// <summary>
    /// Adds a message to the caller's own unit of work, for mail that must commit atomically with other rows (a
    /// sender confirmation and its link): the caller's <c>SaveChangesAsync</c> makes it durable, then it calls
    /// <see cref="Committed"/> to wake Preparation.
    /// </summary>
    public void AddTo(MailroomDb db, QueuedMessage queued)
    {
        Normalize(queued);
        db.OutboundMessages.Add(queued.Message);
    }

    /// <summary>Wakes Preparation after a caller committed messages it added with <see cref="AddTo"/>.</summary>
    public void Committed() => _prepare.Pulse();

    private void Normalize(QueuedMessage q)
    {
        if (q.Message.ReceivedAt == 0)
            q.Message.ReceivedAt = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        q.Message.RecipientsJson = JsonSerializer.Serialize(q.Recipients);
        q.Message.Stage = MessageStage.Accepted;
        q.Message.Status = MessageStatus.Queued;
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>();
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            var count = 0;
            while (count < MaxMessagesPerCommit && _pending.Reader.TryRead(out var p))
            {
                batch.Add(p);
                count += p.Messages.Count;
            }
            try
            {
                await WriteAsync(batch);
                foreach (var p in batch)
                    p.Done.TrySetResult(p);
                _prepare.Pulse();
            }
            catch (Exception e)
            {
                _log.LogWarning(e, "Group commit of {Count} messages failed; writing each caller's messages alone", count);
                // One caller's bad row must not fail the others: retry each caller alone.
                foreach (var p in batch)
                {
                    try
                    {
                        await WriteAsync([p]);
                        p.Done.TrySetResult(p);
                    }
                    catch (Exception single)
                    {
                        p.Done.TrySetException(single);
                    }
                }
            }
        }
    }

    private async Task WriteAsync(IReadOnlyList<Pending> batch)
    {
        using var timer = MailroomMetrics.CommitTimer(batch.Sum(p => p.Messages.Count));
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
        var inactive = await FindInactiveAsync(scope.ServiceProvider, batch);
        var rows = new List<OutboundMessage>();
        foreach (var p in batch)
        {
            p.Inactive = new IReadOnlyList<string>[p.Messages.Count];
            for (var i = 0; i < p.Messages.Count; i++)
            {
                var q = p.Messages[i];
                IReadOnlyList<string> gone = [];
                if (p.CheckInactive && q.Message.ServerId is { } serverId && inactive.Count > 0)
                    gone = q.Recipients.Where(r => inactive.Contains((serverId, q.Message.Stream, r.ToLowerInvariant()))).ToList();
                p.Inactive[i] = gone;
                if (gone.Count == q.Recipients.Count && gone.Count > 0)
                    continue; // nobody left to send to: not stored
                if (gone.Count > 0)
                    q.Message.RecipientsJson = JsonSerializer.Serialize(q.Recipients.Except(gone, StringComparer.OrdinalIgnoreCase).ToList());
                rows.Add(q.Message);
            }
        }
        await QueueRows.InsertMessagesAsync(db, rows, CancellationToken.None);
        MailroomMetrics.Accepted(rows);
    }

    /// <summary>The (server, stream, lower-case address) triples among the group's checked messages that are suppressed.</summary>
    private static async Task<HashSet<(int ServerId, string Stream, string Email)>> FindInactiveAsync(IServiceProvider services, IReadOnlyList<Pending> batch)
    {
        var found = new HashSet<(int, string, string)>();
        var checkedMessages = batch.Where(p => p.CheckInactive).SelectMany(p => p.Messages).Where(q => q.Message.ServerId is not null).ToList();
        if (checkedMessages.Count == 0)
            return found;
        var suppressions = services.GetRequiredService<RecipientSuppressions>();
        foreach (var server in checkedMessages.GroupBy(q => q.Message.ServerId!.Value))
        {
            var pairs = await suppressions.FindSuppressedAsync(server.Key, server.Select(q => q.Message.Stream).Distinct().ToList(),
                server.SelectMany(q => q.Recipients).Distinct(StringComparer.OrdinalIgnoreCase).ToList(), CancellationToken.None);
            foreach (var (stream, email) in pairs)
                found.Add((server.Key, stream, email));
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }

    private sealed class Pending(IReadOnlyList<QueuedMessage> messages, bool checkInactive)
    {
        public IReadOnlyList<QueuedMessage> Messages { get; } = messages;
        public bool CheckInactive { get; } = checkInactive;
        /// <summary>Per message, the recipients left out as inactive (set by the writer).</summary>
        public IReadOnlyList<string>[] Inactive { get; set; } = [];
        public TaskCompletionSource<Pending> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
