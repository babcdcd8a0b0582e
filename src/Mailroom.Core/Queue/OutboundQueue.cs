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
/// many requests share one fsync instead of paying one each. The work is a two-stage pipeline: a gatherer looks up
/// inactive recipients and builds the rows of the next group while a dedicated committer thread inserts and commits the
/// current one (SQLite has one writer, so only the preparation overlaps the commit; the answer still follows the commit).
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
    private readonly Task _gatherer;
    private readonly Thread _committer;
    /// <summary>Gathered groups for the committer; holds at most one (the gatherer hands over only when it is free).</summary>
    private readonly System.Collections.Concurrent.BlockingCollection<Group> _groups = new();
    private readonly PreparationSignal _prepare;

    public OutboundQueue(IServiceScopeFactory scopes, TimeProvider clock, PreparationSignal prepare, ILogger<OutboundQueue> log)
    {
        _scopes = scopes;
        _prepare = prepare;
        _clock = clock;
        _log = log;
        _committer = new Thread(CommitLoop) { IsBackground = true, Name = "outbound-queue commit" };
        _committer.Start();
        _gatherer = Task.Run(GatherLoopAsync);
    }

    /// <summary>Commits several messages durably, in one commit with whatever else is waiting.</summary>
    public Task EnqueueAsync(IReadOnlyList<QueuedMessage> messages, CancellationToken ct = default) =>
        messages.Count == 0 ? Task.CompletedTask : HandAsync(messages, checkInactive: false);

    /// <summary>
    /// Commits several messages durably, leaving out each one's inactive recipients (suppressed on its server and
    /// stream, spec §7) first. The look-up is made once for everything in the group commit, by the gatherer while the
    /// previous group commits, instead of once per request. Returns, per message in order, the recipients left out; a message all of whose
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

    /// <summary>
    /// The gathering half of the pipeline (async, on the thread pool): takes every caller waiting, looks up their inactive
    /// recipients (one query for the group) and builds the rows while the committer is busy with the previous group, then
    /// hands the group over as soon as the committer is free. Callers arriving meanwhile form the next group, gathered
    /// while this one commits; so the committer's turn is only the inserts and the commit, and each group costs one
    /// look-up.
    /// </summary>
    private async Task GatherLoopAsync()
    {
        Task committerFree = Task.CompletedTask;
        try
        {
            while (await _pending.Reader.WaitToReadAsync())
            {
                var group = new Group();
                while (group.Count < MaxMessagesPerCommit && _pending.Reader.TryRead(out var p))
                    group.Add(p);
                await PrepareAsync(group.Pendings);
                await committerFree;
                committerFree = group.Committed.Task;
                _groups.Add(group);
            }
        }
        finally
        {
            _groups.CompleteAdding();
        }
    }

    /// <summary>The committing half (a dedicated thread, so a blocking SQLite fsync never holds a pool thread): inserts
    /// each group's prepared rows in one transaction, commits, then answers its callers.</summary>
    private void CommitLoop()
    {
        foreach (var group in _groups.GetConsumingEnumerable())
        {
            try
            {
                CommitGroup(group);
            }
            catch (Exception e)
            {
                // CommitGroup answers every caller itself; this is only a guard so that nothing unforeseen ends the
                // thread (and with it every later commit) or leaves a caller waiting.
                _log.LogError(e, "Group commit of {Count} messages failed unexpectedly", group.Count);
                foreach (var p in group.Pendings)
                    p.Done.TrySetException(e);
            }
            finally
            {
                group.Committed.TrySetResult();
            }
        }
    }

    private void CommitGroup(Group group)
    {
        var prepared = group.Pendings.Where(p => p.Rows is not null).ToList();
        try
        {
            if (prepared.Count > 0)
            {
                WriteAsync(prepared).GetAwaiter().GetResult();
                foreach (var p in prepared)
                    p.Done.TrySetResult(p);
            }
        }
        catch (Exception e)
        {
            _log.LogWarning(e, "Group commit of {Count} messages failed; writing each caller's messages alone", group.Count);
            // One caller's bad row must not fail the others: retry each caller alone.
            foreach (var p in prepared)
                WriteAlone(p);
        }
        // Callers whose look-up failed while gathering: alone, looked up again.
        foreach (var p in group.Pendings.Where(p => p.Rows is null))
            WriteAlone(p);
        _prepare.Pulse();
    }

    private void WriteAlone(Pending p)
    {
        try
        {
            if (p.Rows is null)
                PrepareAsync([p]).GetAwaiter().GetResult();
            if (p.Rows is null)
                throw p.PrepareError ?? new InvalidOperationException("The inactive-recipient look-up failed.");
            WriteAsync([p]).GetAwaiter().GetResult();
            p.Done.TrySetResult(p);
        }
        catch (Exception single)
        {
            p.Done.TrySetException(single);
        }
    }

    /// <summary>Outside the commit: each caller's inactive recipients (one look-up for all of <paramref name="fresh"/>)
    /// and the rows left to store. A failed look-up leaves <see cref="Pending.Rows"/> null (retried alone).</summary>
    private async Task PrepareAsync(IReadOnlyList<Pending> fresh)
    {
        HashSet<(int ServerId, string Stream, string Email)> inactive;
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            inactive = await FindInactiveAsync(scope.ServiceProvider, fresh);
        }
        catch (Exception e)
        {
            foreach (var p in fresh)
                p.PrepareError = e;
            return;
        }
        foreach (var p in fresh)
        {
            var gone = new IReadOnlyList<string>[p.Messages.Count];
            var rows = new List<OutboundMessage>(p.Messages.Count);
            for (var i = 0; i < p.Messages.Count; i++)
            {
                var q = p.Messages[i];
                IReadOnlyList<string> left = [];
                if (p.CheckInactive && q.Message.ServerId is { } serverId && inactive.Count > 0)
                    left = q.Recipients.Where(r => inactive.Contains((serverId, q.Message.Stream, r.ToLowerInvariant()))).ToList();
                gone[i] = left;
                if (left.Count == q.Recipients.Count && left.Count > 0)
                    continue; // nobody left to send to: not stored
                if (left.Count > 0)
                    q.Message.RecipientsJson = JsonSerializer.Serialize(q.Recipients.Except(left, StringComparer.OrdinalIgnoreCase).ToList());
                rows.Add(q.Message);
            }
            p.Inactive = gone;
            p.Rows = rows;
        }
    }

    /// <summary>The committer's whole turn: the prepared rows inserted and committed in one transaction.</summary>
    private async Task WriteAsync(IReadOnlyList<Pending> batch)
    {
        var rows = batch.Count == 1 ? batch[0].Rows! : batch.SelectMany(p => p.Rows!).ToList();
        using var timer = MailroomMetrics.CommitTimer(rows.Count);
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MailroomDb>();
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
        await _gatherer;
        // The committer ends once the last group is committed (the gatherer completed the hand-off).
        await Task.Run(() => _committer.Join());
    }

    private sealed class Pending(IReadOnlyList<QueuedMessage> messages, bool checkInactive)
    {
        public IReadOnlyList<QueuedMessage> Messages { get; } = messages;
        public bool CheckInactive { get; } = checkInactive;
        /// <summary>Per message, the recipients left out as inactive (set by the writer).</summary>
        public IReadOnlyList<string>[] Inactive { get; set; } = [];
        /// <summary>The rows to store (set while gathering); null until then or when the look-up failed.</summary>
        public List<OutboundMessage>? Rows { get; set; }
        public Exception? PrepareError { get; set; }
        public TaskCompletionSource<Pending> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The callers of one commit.</summary>
    private sealed class Group
    {
        public List<Pending> Pendings { get; } = [];
        /// <summary>Messages in the group.</summary>
        public int Count { get; private set; }
        /// <summary>Completed when the committer is done with this group (committed or failed): it is free again.</summary>
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Add(Pending p)
        {
            Pendings.Add(p);
            Count += p.Messages.Count;
        }
    }
}
