using System.Buffers;
using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Mailroom.Core.Storage;

/// <summary>
/// A node's memory of the settings every send reads: which server a token names, a server and its streams, what a
/// From address is authorized to (and signed with). Without it each <c>POST /email</c> paid four to six queries for
/// rows that change a few times a day.
/// <para>
/// Freshness: every write of this node to a settings table (<see cref="SettingsTables"/>) empties the cache, through
/// <see cref="SettingsWriteInterceptor"/> on every <see cref="MailroomDb"/> command, so a change made here is seen by the
/// next request. On PostgreSQL another node's committed change arrives as a notification
/// (<see cref="SettingsChangeListener"/>) and empties the cache at once; <see cref="MaxAge"/> (entries are reloaded
/// after that) remains the bound should a notification be lost (the listener reconnecting).
/// </para>
/// </summary>
public sealed class SettingsCache
{
    /// <summary>Tables whose rows the cached answers are made of.</summary>
    public static readonly IReadOnlyList<string> SettingsTables =
        ["accounts", "servers", "server_tokens", "message_streams", "domains", "dkim_keys", "sender_signatures"];

    private readonly ConcurrentDictionary<(string Region, object Key), Entry> _entries = new();
    private long _generation;
    private long _stores;

    /// <summary>How long another node's change may go unseen (default 2 s).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Stores between two clearings (default 10 000). Keys come from senders' input (any local part of the platform
    /// domain is a From address of its own), so without a bound the cache would grow until the next settings write.
    /// Counting stores, not entries, keeps the check off ConcurrentDictionary.Count, which takes every lock.
    /// </summary>
    public int Capacity { get; init; } = 10_000;

    private sealed record Entry(object? Value, long Generation, long LoadedAt);

    /// <summary>The cached answer for (<paramref name="region"/>, <paramref name="key"/>), loading it when absent,
    /// stale or older than a local write. A null answer is not kept (unknown tokens are asked again).</summary>
    public async ValueTask<T?> GetOrLoadAsync<T>(string region, object key, Func<Task<T?>> load) where T : class
    {
        var now = Environment.TickCount64;
        var generation = Volatile.Read(ref _generation);
        if (_entries.TryGetValue((region, key), out var e) && e.Generation == generation && now - e.LoadedAt < (long)MaxAge.TotalMilliseconds)
            return (T?)e.Value;
        var value = await load();
        // Kept only if no write happened while loading: otherwise the answer may predate it.
        if (value is not null && Volatile.Read(ref _generation) == generation)
        {
            if (Interlocked.Increment(ref _stores) > Capacity)
            {
                Interlocked.Exchange(ref _stores, 1);
                _entries.Clear();
            }
            _entries[(region, key)] = new Entry(value, generation, now);
        }
        return value;
    }

    /// <summary>Forgets everything: called after any write to a settings table.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }
}

/// <summary>
/// Empties the <see cref="SettingsCache"/> when a command writes a settings table (INSERT INTO, UPDATE, DELETE FROM
/// one of <see cref="SettingsCache.SettingsTables"/>, as EF writes them for SaveChanges, ExecuteUpdate and
/// ExecuteDelete on both providers: quoted on SQLite, bare on PostgreSQL): once when the statement ran and, inside a transaction, again at its commit, so
/// an answer read between the two cannot outlive the commit. Each committed write is also announced to the other nodes
/// (<see cref="SettingsChangeNotifier"/>: PostgreSQL NOTIFY), whose listeners empty their caches.
/// </summary>
public sealed class SettingsWriteInterceptor(SettingsCache cache, SettingsChangeNotifier? notifier = null) : IDbCommandInterceptor, IDbTransactionInterceptor
{
    private static readonly SearchValues<string> Writes = SearchValues.Create(
        // SQLite's provider quotes every table name; Npgsql's leaves lower-case ones bare, followed by a space or, in
        // EF's DELETE, a line break.
        SettingsCache.SettingsTables
            .SelectMany(t => new[] { $"\"{t}\"", $"{t} ", $"{t}\n", $"{t}\r" })
            .SelectMany(t => new[] { $"INSERT INTO {t}", $"UPDATE {t}", $"DELETE FROM {t}" }).ToArray(),
        StringComparison.OrdinalIgnoreCase);

    private readonly ConditionalWeakTable<DbTransaction, object> _dirty = new();

    /// <summary>Empties the cache if the command wrote a settings table; true when the write is committed already
    /// (no transaction), so other nodes are to be told now.</summary>
    private bool Check(DbCommand command)
    {
        if (command.CommandText.AsSpan().IndexOfAny(Writes) < 0)
            return false;
        cache.Invalidate();
        if (command.Transaction is { } tx)
        {
            _dirty.AddOrUpdate(tx, this);
            return false;
        }
        return true;
    }

    private bool Committed(DbTransaction tx)
    {
        if (!_dirty.TryGetValue(tx, out _))
            return false;
        _dirty.Remove(tx);
        cache.Invalidate();
        return true;
    }

    /// <summary>The synchronous paths do not wait for the NOTIFY; the asynchronous ones (every API write) do, so a
    /// request that deleted a server answers after every node was told.</summary>
    private void Announce(bool committed)
    {
        if (committed && notifier is { Enabled: true })
            _ = notifier.NotifyAsync();
    }

    private Task AnnounceAsync(bool committed) =>
        committed && notifier is { Enabled: true } ? notifier.NotifyAsync() : Task.CompletedTask;

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Announce(Check(command));
        return result;
    }

    public async ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        await AnnounceAsync(Check(command));
        return result;
    }

    public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Announce(Check(command));
        return result;
    }

    public async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        await AnnounceAsync(Check(command));
        return result;
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Announce(Check(command));
        return result;
    }

    public async ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        await AnnounceAsync(Check(command));
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Announce(Committed(transaction));

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default) =>
        AnnounceAsync(Committed(transaction));
}
