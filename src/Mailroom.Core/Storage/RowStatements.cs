using System.Data;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Mailroom.Core.Storage;

/// <summary>
/// One SQL statement run once per row, inside a transaction, on the context's own connection: the queue's hot writes
/// (accepting, preparing, recording deliveries), where EF's change tracking and update pipeline cost more CPU per
/// message than the database's own work. SQLite runs one statement repeatedly with new values; PostgreSQL gets all
/// rows in one round trip as a <see cref="DbBatch"/>. Parameters are named <c>@Name</c> on both.
/// </summary>
public sealed class RowStatements : IAsyncDisposable
{
    private readonly MailroomDb _db;
    private readonly DbConnection _connection;
    private readonly bool _owned;

    private RowStatements(MailroomDb db, DbConnection connection, DbTransaction transaction, bool owned = true)
    {
        _db = db;
        _connection = connection;
        Transaction = transaction;
        _owned = owned;
    }

    public DbTransaction Transaction { get; }

    public bool Postgres => _db is PostgresMailroomDb;

    /// <summary>Opens the context's connection and begins a transaction; dispose to roll back what is not committed.</summary>
    public static async Task<RowStatements> BeginAsync(MailroomDb db, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            return new RowStatements(db, connection, await connection.BeginTransactionAsync(ct));
        }
        catch
        {
            await db.Database.CloseConnectionAsync();
            throw;
        }
    }

    /// <summary>Statements in the context's current transaction (begun by EF or by <see cref="BeginAsync"/> and handed to
    /// EF with <c>UseTransaction</c>); its owner commits it, and disposing this changes nothing.</summary>
    public static RowStatements InCurrentTransaction(MailroomDb db) =>
        db.Database.CurrentTransaction is { } tx
            ? new RowStatements(db, db.Database.GetDbConnection(), Microsoft.EntityFrameworkCore.Storage.DbContextTransactionExtensions.GetDbTransaction(tx), owned: false)
            : throw new InvalidOperationException("These statements must run in the transaction of the change they belong to.");

    /// <summary>Runs <paramref name="sql"/> once per item with the parameters <paramref name="bind"/> sets; returns the
    /// rows each affected, in order.</summary>
    public async Task<int[]> ExecuteEachAsync<T>(string sql, IReadOnlyList<T> items, Action<T, Row> bind, CancellationToken ct)
    {
        var affected = new int[items.Count];
        if (items.Count == 0)
            return affected;
        if (Postgres && _connection.CanCreateBatch)
        {
            await using var batch = _connection.CreateBatch();
            batch.Transaction = Transaction;
            foreach (var item in items)
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = sql;
                bind(item, new Row(command.Parameters, command.CreateParameter, Postgres));
                batch.BatchCommands.Add(command);
            }
            await batch.ExecuteNonQueryAsync(ct);
            for (var i = 0; i < items.Count; i++)
                affected[i] = batch.BatchCommands[i].RecordsAffected;
            return affected;
        }
        return await OneByOneAsync(sql, items, bind, (command, token) => command.ExecuteNonQueryAsync(token), ct);
    }

    /// <summary>Runs <paramref name="sql"/> (no parameters) once in the transaction; returns the rows it affected.</summary>
    public async Task<int> ExecuteAsync(string sql, CancellationToken ct)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Runs <paramref name="sql"/> (no parameters) once in the transaction; returns its first value.</summary>
    public async Task<object?> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct);
    }

    /// <summary>Runs <paramref name="sql"/> (a statement answering one value, e.g. <c>INSERT ... RETURNING "Id"</c>) once
    /// per item; returns the values, in order.</summary>
    public Task<object?[]> ExecuteEachScalarAsync<T>(string sql, IReadOnlyList<T> items, Action<T, Row> bind, CancellationToken ct) =>
        OneByOneAsync(sql, items, bind, (command, token) => command.ExecuteScalarAsync(token), ct);

    /// <summary>One prepared command run once per item, its parameters bound again each time.</summary>
    private async Task<TResult[]> OneByOneAsync<T, TResult>(string sql, IReadOnlyList<T> items, Action<T, Row> bind,
        Func<DbCommand, CancellationToken, Task<TResult>> run, CancellationToken ct)
    {
        var results = new TResult[items.Count];
        await using var single = _connection.CreateCommand();
        single.Transaction = Transaction;
        single.CommandText = sql;
        for (var i = 0; i < items.Count; i++)
        {
            // SQLite: the parameters of the first row are kept and only their values set again (Row.Add reuses the one
            // of the same name at the same position), which saves the writer a parameter object per column per row.
            // PostgreSQL infers a parameter's type from its first value, so it gets fresh ones.
            if (Postgres)
                single.Parameters.Clear();
            bind(items[i], new Row(single.Parameters, single.CreateParameter, Postgres));
            results[i] = await run(single, ct);
        }
        return results;
    }

    public Task CommitAsync(CancellationToken ct) => Transaction.CommitAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (!_owned)
            return;
        await Transaction.DisposeAsync();
        await _db.Database.CloseConnectionAsync();
    }

    /// <summary>The parameters of one row's statement.</summary>
    public readonly struct Row(DbParameterCollection parameters, Func<DbParameter> create, bool postgres, int position = 0)
    {
        public Row Add(string name, object? value)
        {
            Parameter(name).Value = value ?? DBNull.Value;
            return Next;
        }

        private Row Next => new(parameters, create, postgres, position + 1);

        /// <summary>The parameter at this position when it has this name (a previous row's, reused), else a new one.</summary>
        private DbParameter Parameter(string name)
        {
            if (position < parameters.Count && parameters[position] is { } existing &&
                existing.ParameterName.Length == name.Length + 1 && existing.ParameterName.AsSpan(1).SequenceEqual(name))
                return existing;
            if (position < parameters.Count)
                throw new InvalidOperationException($"Parameter '{name}' bound out of order: every row must bind the same names in the same order.");
            var p = create();
            p.ParameterName = "@" + name;
            parameters.Add(p);
            return p;
        }

        /// <summary>A Guid as the model stores it: upper-case text on SQLite (EF's mapping), uuid on PostgreSQL.</summary>
        public Row Guid(string name, Guid value) => Add(name, postgres ? value : value.ToString().ToUpperInvariant());

        public Row Bytes(string name, byte[]? value)
        {
            var p = Parameter(name);
            p.DbType = DbType.Binary;
            p.Value = (object?)value ?? DBNull.Value;
            return Next;
        }
    }
}
