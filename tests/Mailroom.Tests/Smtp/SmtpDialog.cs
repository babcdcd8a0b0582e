using System.Net.Security;
using System.Net.Sockets;

namespace Mailroom.Tests.Smtp;

/// <summary>A reply as the client reads it: the code, and every line's text joined by newlines.</summary>
public sealed record Reply(int Code, string Text)
{
    public override string ToString() => $"{Code} {Text}";
}

/// <summary>
/// A raw SMTP client for protocol tests: writes exactly the lines a test gives and reads replies (multi-line
/// replies, RFC 5321 §4.2.1, joined). For what MailKit will not send: AUTH before STARTTLS, PROXY, over-long lines.
/// </summary>
public sealed class SmtpDialog : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private StreamReader _reader;

    private SmtpDialog(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    public static async Task<(SmtpDialog Dialog, Reply Greeting)> OpenAsync(int port)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var dialog = new SmtpDialog(tcp);
        return (dialog, await dialog.ReadAsync());
    }

    public async Task<Reply> SendAsync(string line)
    {
        await WriteAsync(line + "\r\n");
        return await ReadAsync();
    }

    public async Task WriteAsync(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task WriteAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one reply; a closed connection reads as code 0.</summary>
    public async Task<Reply> ReadAsync()
    {
        var lines = new List<string>();
        var code = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            string? line;
            try
            {
                line = await _reader.ReadLineAsync(timeout.Token);
            }
            catch (IOException)
            {
                line = null;
            }
            if (line is null)
                return new Reply(lines.Count == 0 ? 0 : code, string.Join("\n", lines));
            code = int.Parse(line[..3]);
            lines.Add(line.Length > 4 ? line[4..] : "");
            if (line.Length < 4 || line[3] == ' ')
                return new Reply(code, string.Join("\n", lines));
        }
    }

    /// <summary>
    /// One read from the connection, as text: what the server sent in one go (over TLS, one record). Only between
    /// replies read whole, so that nothing is waiting in the line reader's buffer.
    /// </summary>
    public async Task<string> ReadOnceAsync()
    {
        var buffer = new byte[16384];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var n = await _stream.ReadAsync(buffer, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>STARTTLS and the handshake (any certificate accepted: the test's server is self-signed).</summary>
    public async Task<Reply> StartTlsAsync()
    {
        var reply = await SendAsync("STARTTLS");
        if (reply.Code != 220)
            return reply;
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            RemoteCertificate = certificate is null ? null : new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate);
            return true;
        });
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" });
        _stream = ssl;
        _reader = new StreamReader(ssl, Encoding.ASCII);
        return reply;
    }

    /// <summary>The server's certificate, once STARTTLS is done.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? RemoteCertificate { get; private set; }

    public System.Security.Authentication.SslProtocols Protocol => (_stream as SslStream)?.SslProtocol ?? System.Security.Authentication.SslProtocols.None;

    public static string Plain(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{user}\0{password}"));

    public static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}
