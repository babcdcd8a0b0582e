using MailKit.Net.Smtp;
using MimeKit;

namespace Mailroom.Tests.Infrastructure;

/// <summary>
/// A remote MTA delivering to Mailroom's MX listener with MailKit: plain SMTP on loopback, as port 25 is between MTAs.
/// </summary>
public static class RemoteMta
{
    /// <summary>Connects to the MX listener on <paramref name="port"/>, retrying for up to 5 s while it is still binding
    /// (it binds in the background at start).</summary>
    public static async Task<SmtpClient> ConnectAsync(int port, string? localDomain = null)
    {
        var client = new SmtpClient();
        if (localDomain is not null)
            client.LocalDomain = localDomain;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
                return client;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Delivers one message in its own session, with the envelope given (MAIL FROM <paramref name="mailFrom"/>,
    /// RCPT TO <paramref name="rcpt"/>) rather than the message's headers.</summary>
    public static async Task SendAsync(int port, MimeMessage message, string mailFrom, string rcpt, string? localDomain = null)
    {
        using var client = await ConnectAsync(port, localDomain);
        await client.SendAsync(message, MailboxAddress.Parse(mailFrom), [MailboxAddress.Parse(rcpt)]);
        await client.DisconnectAsync(true);
    }
}
