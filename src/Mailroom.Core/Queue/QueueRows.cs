using System.Data;
using System.Data.Common;
using Mailroom.Core.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Mailroom.Core.Queue;

/// <summary>
/// The queue's hot writes as plain SQL on the context's connection, one transaction for a whole group: EF's change
/// tracker and update pipeline cost more CPU per 5 KB message than SQLite's own insert (a profile of the group
/// commit showed EF's SaveChanges above the statement itself). One prepared statement runs once per row on SQLite;
/// PostgreSQL gets every row in one round trip as an <see cref="DbBatch"/>. The columns are those of
/// <see cref="OutboundMessage"/> as the model maps them (the tests read every row back through EF).
/// </summary>
public static class QueueRows
{
    private static readonly string[] Columns =
    [
        "Id", "AccountId", "ServerId", "Stream", "From", "Subject", "Tag", "ToJson", "CcJson", "BccJson", "MetadataJson",
        "AttachmentNamesJson", "TrackOpens", "TrackLinks", "Sandboxed", "ReturnPathDomain", "Mime", "RecipientsJson", "Stage",
        "StageDetail", "Status", "ReceivedAt",
    ];

    private static readonly string InsertSql =
        $"INSERT INTO outbound_messages ({string.Join(", ", Columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", Columns.Select(c => "@" + c))})";

    /// <summary>Inserts <paramref name="messages"/> in one transaction (committed, hence durable, on return).</summary>
    public static async Task InsertAsync(MailroomDb db, IReadOnlyList<OutboundMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0)
            return;
        var postgres = db is PostgresMailroomDb;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            await using var tx = await connection.BeginTransactionAsync(ct);
            if (postgres && connection.CanCreateBatch)
            {
                await using var batch = connection.CreateBatch();
                batch.Transaction = tx;
                foreach (var m in messages)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = InsertSql;
                    Bind(command.Parameters, () => command.CreateParameter(), m, postgres);
                    batch.BatchCommands.Add(command);
                }
                await batch.ExecuteNonQueryAsync(ct);
            }
            else
            {
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = InsertSql;
                foreach (var m in messages)
                {
                    command.Parameters.Clear();
                    Bind(command.Parameters, command.CreateParameter, m, postgres);
                    await command.ExecuteNonQueryAsync(ct);
                }
            }
            await tx.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static void Bind(DbParameterCollection parameters, Func<DbParameter> create, OutboundMessage m, bool postgres)
    {
        void Add(string name, object? value)
        {
            var p = create();
            p.ParameterName = "@" + name;
            p.Value = value ?? DBNull.Value;
            parameters.Add(p);
        }
        // SQLite keeps a Guid as upper-case text (EF's mapping); PostgreSQL as uuid.
        Add("Id", postgres ? m.Id : m.Id.ToString().ToUpperInvariant());
        Add("AccountId", m.AccountId);
        Add("ServerId", m.ServerId);
        Add("Stream", m.Stream);
        Add("From", m.From);
        Add("Subject", m.Subject);
        Add("Tag", m.Tag);
        Add("ToJson", m.ToJson);
        Add("CcJson", m.CcJson);
        Add("BccJson", m.BccJson);
        Add("MetadataJson", m.MetadataJson);
        Add("AttachmentNamesJson", m.AttachmentNamesJson);
        Add("TrackOpens", m.TrackOpens);
        Add("TrackLinks", m.TrackLinks);
        Add("Sandboxed", m.Sandboxed);
        Add("ReturnPathDomain", m.ReturnPathDomain);
        var mime = create();
        mime.ParameterName = "@Mime";
        mime.DbType = DbType.Binary;
        mime.Value = (object?)m.Mime ?? DBNull.Value;
        parameters.Add(mime);
        Add("RecipientsJson", m.RecipientsJson);
        Add("Stage", (int)m.Stage);
        Add("StageDetail", m.StageDetail);
        Add("Status", (int)m.Status);
        Add("ReceivedAt", m.ReceivedAt);
    }
}
