namespace Mailroom.Core;

/// <summary>
/// A refusal that the API turns into Postmark's error body <c>{ErrorCode, Message}</c>.
/// Core throws it; hosts translate it (HTTP status, SMTP reply). ErrorCode is Postmark's number
/// (spec §1.7), unrelated to the HTTP status.
/// </summary>
public sealed class MailroomException(int errorCode, string message, int httpStatus = 422) : Exception(message)
{
    public int ErrorCode { get; } = errorCode;
    public int HttpStatus { get; } = httpStatus;

    public static MailroomException NotFound(int errorCode, string message) => new(errorCode, message, 422);
}
