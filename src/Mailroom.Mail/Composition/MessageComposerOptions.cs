namespace Mailroom.Mail.Composition;

/// <summary>Settings of a <see cref="MessageComposer"/>.</summary>
public sealed record MessageComposerOptions
{
    /// <summary>The right-hand side of generated Message-IDs (RFC 5322 §3.6.4): <c>&lt;guid@MessageIdDomain&gt;</c>.</summary>
    public required string MessageIdDomain { get; init; }

    /// <summary>
    /// When true, a caller may set Message-ID through <see cref="OutboundMessageSpec.Headers"/> (once, in
    /// <c>&lt;left@right&gt;</c> form), replacing the generated one. Off by default.
    /// </summary>
    public bool AllowCustomMessageId { get; init; }
}
