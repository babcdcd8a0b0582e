namespace Mailroom.Mail.Composition;

/// <summary>
/// A message could not be built from its description because one field is unacceptable: an invalid
/// address, a header that would allow injection (CR or LF, RFC 5322 §2.2), a reserved header, etc.
/// <see cref="Field"/> names the field as the API spells it (<c>To</c>, <c>Subject</c>, <c>Headers[2].Name</c>,
/// <c>Attachments[0].ContentID</c>); the message is fit to show to the API caller.
/// </summary>
public sealed class CompositionException : Exception
{
    public CompositionException(string field, string message)
        : base(message)
    {
        Field = field;
    }

    /// <summary>The offending field.</summary>
    public string Field { get; }
}
