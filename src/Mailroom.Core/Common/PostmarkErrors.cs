namespace Mailroom.Core;

/// <summary>
/// Postmark's API error codes (the <c>ErrorCode</c> of every error body and batch item; /work/shared/spec/postmark-api.md
/// §1.7) by name. Clients branch on these numbers, so they are part of the wire format: never renumber one.
/// </summary>
public static class PostmarkErrors
{
    /// <summary>Success: batch items, action responses.</summary>
    public const int None = 0;
    /// <summary>Token missing, invalid, or of the wrong kind (HTTP 401).</summary>
    public const int InvalidToken = 10;
    /// <summary>Unexpected error, answered with an error id (HTTP 500).</summary>
    public const int UnexpectedError = 101;
    /// <summary>Email request invalid: addresses, recipients, body, field, metadata or header limits.</summary>
    public const int InvalidEmailRequest = 300;
    /// <summary>The From address is not a sender signature or on a verified domain.</summary>
    public const int SenderSignatureNotFound = 400;
    /// <summary>The From address's sender signature is not confirmed yet.</summary>
    public const int SenderSignatureNotConfirmed = 401;
    /// <summary>The body is not valid JSON.</summary>
    public const int InvalidJson = 402;
    /// <summary>A field of the request has the wrong type or shape.</summary>
    public const int InvalidRequestFields = 403;
    /// <summary>Every recipient is inactive (suppressed) in the message's stream.</summary>
    public const int InactiveRecipient = 406;
    /// <summary>The body is not sent as JSON (HTTP 415).</summary>
    public const int JsonRequired = 409;
    /// <summary>A batch of more messages than allowed (500).</summary>
    public const int TooManyBatchMessages = 410;
    /// <summary>An attachment of a forbidden file type.</summary>
    public const int ForbiddenAttachmentType = 411;
    /// <summary>No inbound rule with that ID.</summary>
    public const int InboundRuleNotFound = 812;
    /// <summary>No bounce with that ID.</summary>
    public const int BounceNotFound = 1001;
    /// <summary>The <c>MessageStream</c> named does not exist on the server.</summary>
    public const int MessageStreamNotFound = 1235;
    /// <summary>The stream named cannot send (an inbound stream).</summary>
    public const int MessageStreamCannotSend = 1236;
    /// <summary>No webhook with that ID.</summary>
    public const int WebhookNotFound = 1352;
    /// <summary>A webhook field has an invalid value.</summary>
    public const int InvalidWebhookField = 1361;
    /// <summary>The suppressions request body is missing or invalid.</summary>
    public const int InvalidSuppressionRequest = 1409;
}
