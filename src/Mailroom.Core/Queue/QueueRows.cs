using Mailroom.Core.Storage;

namespace Mailroom.Core.Queue;

/// <summary>
/// The queue's hot writes as plain SQL (<see cref="RowStatements"/>): a profile of the group commit showed EF's
/// SaveChanges costing more CPU than SQLite's insert itself. The columns are those of the model; the tests read every
/// row back through EF.
/// </summary>
public static class QueueRows
{
    private static string Insert(string table, params string[] columns) =>
        $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select(c => "@" + c))})";

    private static readonly string InsertMessage = Insert("outbound_messages",
        "Id", "AccountId", "ServerId", "Stream", "From", "Subject", "Tag", "ToJson", "CcJson", "BccJson", "MetadataJson",
        "AttachmentNamesJson", "TrackOpens", "TrackLinks", "Sandboxed", "ReturnPathDomain", "Mime", "RecipientsJson", "Stage",
        "StageDetail", "Status", "ReceivedAt", "TraceParent");

    private static readonly string InsertDelivery = Insert("deliveries",
        "MessageId", "Recipient", "RecipientIndex", "Domain", "State", "Attempts", "NextAttemptAt", "LeaseUntil", "LeaseOwner",
        "CreatedAt", "LastResult");

    private static readonly string InsertEvent = Insert("message_events",
        "MessageId", "ServerId", "Recipient", "Type", "At", "DetailsJson");

    /// <summary>Inserts <paramref name="messages"/> in one transaction (committed, hence durable, on return), with their
    /// search index entries (<see cref="MessageSearchIndex"/>: one statement for the whole group).</summary>
    public static async Task InsertMessagesAsync(MailroomDb db, IReadOnlyList<OutboundMessage> messages, CancellationToken ct)
    {
        if (messages.Count == 0)
            return;
        await using var rows = await RowStatements.BeginAsync(db, ct);
        await InsertMessagesAsync(rows, messages, ct);
        await MessageSearchIndex.CatchUpAsync(rows, ct);
        await rows.CommitAsync(ct);
    }

    public static Task InsertMessagesAsync(RowStatements rows, IReadOnlyList<OutboundMessage> messages, CancellationToken ct) =>
        rows.ExecuteEachAsync(InsertMessage, messages, (m, r) => r
            .Guid("Id", m.Id).Add("AccountId", m.AccountId).Add("ServerId", m.ServerId).Add("Stream", m.Stream)
            .Add("From", m.From).Add("Subject", m.Subject).Add("Tag", m.Tag).Add("ToJson", m.ToJson).Add("CcJson", m.CcJson)
            .Add("BccJson", m.BccJson).Add("MetadataJson", m.MetadataJson).Add("AttachmentNamesJson", m.AttachmentNamesJson)
            .Add("TrackOpens", m.TrackOpens).Add("TrackLinks", m.TrackLinks).Add("Sandboxed", m.Sandboxed)
            .Add("ReturnPathDomain", m.ReturnPathDomain).Bytes("Mime", m.Mime).Add("RecipientsJson", m.RecipientsJson)
            .Add("Stage", (int)m.Stage).Add("StageDetail", m.StageDetail).Add("Status", (int)m.Status).Add("ReceivedAt", m.ReceivedAt)
            .Add("TraceParent", m.TraceParent), ct);

    public static Task InsertDeliveriesAsync(RowStatements rows, IReadOnlyList<RecipientDelivery> deliveries, CancellationToken ct) =>
        rows.ExecuteEachAsync(InsertDelivery, deliveries, (d, r) => r
            .Guid("MessageId", d.MessageId).Add("Recipient", d.Recipient).Add("RecipientIndex", d.RecipientIndex)
            .Add("Domain", d.Domain).Add("State", (int)d.State).Add("Attempts", d.Attempts).Add("NextAttemptAt", d.NextAttemptAt)
            .Add("LeaseUntil", d.LeaseUntil).Add("LeaseOwner", d.LeaseOwner).Add("CreatedAt", d.CreatedAt).Add("LastResult", d.LastResult), ct);

    public static Task InsertEventsAsync(RowStatements rows, IReadOnlyList<MessageEvent> events, CancellationToken ct) =>
        rows.ExecuteEachAsync(InsertEvent, events, (e, r) => r
            .Guid("MessageId", e.MessageId).Add("ServerId", e.ServerId).Add("Recipient", e.Recipient).Add("Type", (int)e.Type)
            .Add("At", e.At).Add("DetailsJson", e.DetailsJson), ct);
}
