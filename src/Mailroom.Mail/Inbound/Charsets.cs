using System.Text;

namespace Mailroom.Mail.Inbound;

/// <summary>
/// .NET knows only Unicode, ASCII and Latin-1 until the code-page provider is registered; without it MimeKit cannot
/// decode koi8-r, windows-125x, iso-2022-jp, Shift_JIS, GB2312 ... (RFC 2045 charset parameters, RFC 2047 words).
/// The executable registers it at start (MailroomApp.Build), before MimeKit caches which charsets exist.
/// </summary>
public static class Charsets
{
    public static void Register() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
}
