namespace Mailroom.Core.Storage;

/// <summary>
/// The columns of a work row that workers claim under a lease and retry: a delivery to a recipient
/// (<see cref="Queue.RecipientDelivery"/>) and a delivery to a webhook endpoint (<see cref="Webhooks.WebhookDelivery"/>).
/// The lease lets another node take the row again when its claimer dies (at least once). Not an entity of its own:
/// each subclass keeps these columns in its own table, with the names below (hand-written SQL names them).
/// </summary>
public abstract class LeasedRow
{
    /// <summary>Attempts made so far.</summary>
    public int Attempts { get; set; }
    /// <summary>Unix milliseconds. Stored as numbers so SQLite and PostgreSQL compare them alike.</summary>
    public long NextAttemptAt { get; set; }
    /// <summary>Unix milliseconds until which <see cref="LeaseOwner"/> holds the row; 0 when nobody does.</summary>
    public long LeaseUntil { get; set; }
    /// <summary>The claiming node's identity.</summary>
    public string? LeaseOwner { get; set; }
    public long CreatedAt { get; set; }
    /// <summary>The last attempt's result (a reply or an error), for the operator.</summary>
    public string LastResult { get; set; } = "";
}
