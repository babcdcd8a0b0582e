namespace Mailroom.Mail.Addresses;

/// <summary>A mailbox as the API gives it: an optional display name and an addr-spec (RFC 5322 §3.4).</summary>
public sealed record NamedAddress(string? Name, string Address)
{
    /// <summary>An address without a display name.</summary>
    public static NamedAddress Of(string address) => new(null, address);
}
