using MimeKit;

namespace Mailroom.Mail.Composition;

/// <summary>
/// Writes messages as they go on the wire: CRLF line endings (RFC 5322 §2.1, RFC 5321 §2.3.8), the form
/// DKIM signatures are computed over (RFC 6376 §3.4). Serialize signed messages only this way.
/// </summary>
public static class WireFormat
{
    static readonly FormatOptions Crlf = CreateOptions();

    /// <summary>A fresh copy of the options used (MimeKit's defaults with CRLF newlines).</summary>
    public static FormatOptions CreateOptions()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.EnsureNewLine = true;
        return options;
    }

    /// <summary>The whole message as bytes with CRLF line endings.</summary>
    public static byte[] ToBytes(MimeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var stream = new MemoryStream();
        message.WriteTo(Crlf, stream);
        return stream.ToArray();
    }

    /// <summary>Writes the message to <paramref name="stream"/> with CRLF line endings.</summary>
    public static void WriteTo(MimeMessage message, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.WriteTo(Crlf, stream);
    }
}
