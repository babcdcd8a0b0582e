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
/// next request. Another node's change is seen within <see cref="MaxAge"/> at most (entries are reloaded after
/// that); that bound is what several nodes on one database trade for not asking the database on every send.
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
/// an answer read between the two cannot outlive the commit.
/// </summary>
public sealed class SettingsWriteInterceptor(SettingsCache cache) : IDbCommandInterceptor, IDbTransactionInterceptor
{
    private static readonly SearchValues<string> Writes = SearchValues.Create(
        // SQLite's provider quotes every table name; Npgsql's leaves lower-case ones bare, followed by a space or, in
        // EF's DELETE, a line break.
        SettingsCache.SettingsTables
            .SelectMany(t => new[] { $"\"{t}\"", $"{t} ", $"{t}\n", $"{t}\r" })
            .SelectMany(t => new[] { $"INSERT INTO {t}", $"UPDATE {t}", $"DELETE FROM {t}" }).ToArray(),
        StringComparison.OrdinalIgnoreCase);

    private readonly ConditionalWeakTable<DbTransaction, object> _dirty = new();

    private void Check(DbCommand command)
    {
        if (command.CommandText.AsSpan().IndexOfAny(Writes) < 0)
            return;
        cache.Invalidate();
        if (command.Transaction is { } tx)
            _dirty.AddOrUpdate(tx, this);
    }

    private void Committed(DbTransaction tx)
    {
        if (_dirty.TryGetValue(tx, out _))
        {
            _dirty.Remove(tx);
            cache.Invalidate();
        }
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Check(command);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Check(command);
        return ValueTask.FromResult(result);
    }

    public DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Check(command);
        return result;
    }

    public ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Check(command);
        return ValueTask.FromResult(result);
    }

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Check(command);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Check(command);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Committed(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(transaction);
        return Task.CompletedTask;
    }
}
