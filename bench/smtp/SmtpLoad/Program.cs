// SMTP load generator for bench/smtp/run.sh: N parallel MailKit sessions send a fixed number of messages of a
// given size over connections they keep open (MailKit pipelines MAIL/RCPT/DATA when the server offers
// PIPELINING, RFC 2920), and the rate is messages completed (250 to DATA) per second of wall time, timed from
// the moment every session is connected (and authenticated) to the last 250.
//
//   SmtpLoad --port 2525 [--host 127.0.0.1] [--sessions 10] [--messages 2000] [--size 5120]
//            [--user U --password P] [--starttls] [--from a@b] [--to c@d] [--client-nagle]
//
// The client sets TCP_NODELAY on its sockets unless --client-nagle is given (MailKit's own default).
//
// Prints one line: "sessions=10 messages=2000 errors=0 seconds=1.234 rate=1620.7 client_cpu_us_per_msg=310".
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

var options = Options.Parse(args);
var clients = new SmtpClient[options.Sessions];
await Parallel.ForAsync(0, options.Sessions, async (i, ct) =>
{
    var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false, Timeout = 120_000 };
    var tls = options.StartTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None;
    if (options.ClientNoDelay)
    {
        // MailKit leaves Nagle's algorithm on: its message body goes out in several writes, and each write after
        // the first waits for the server's delayed ACK. A well-behaved bulk sender turns it off.
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(options.Host, options.Port, ct);
        await client.ConnectAsync(socket, options.Host, options.Port, tls, ct);
    }
    else
    {
        await client.ConnectAsync(options.Host, options.Port, tls, ct);
    }
    if (options.User is not null)
        await client.AuthenticateAsync(options.User, options.Password ?? options.User, ct);
    clients[i] = client;
});

var remaining = options.Messages;
var errors = 0;
string? firstError = null;
var clock = Stopwatch.StartNew();
var cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
await Task.WhenAll(clients.Select(client => Task.Run(async () =>
{
    var message = BuildMessage(options); // one per session: MimeKit's content streams are not shared safely
    while (Interlocked.Decrement(ref remaining) >= 0)
    {
        try
        {
            await client.SendAsync(message);
        }
        catch (Exception e) when (e is SmtpCommandException or SmtpProtocolException or IOException)
        {
            Interlocked.Increment(ref errors);
            Interlocked.CompareExchange(ref firstError, e.Message, null);
            if (!client.IsConnected)
                return;
        }
    }
})));
var seconds = clock.Elapsed.TotalSeconds;
// The client's own CPU per message (all its threads, user + system), so a reader can tell whether the client is
// what limits the rate on shared cores.
var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuAtStart).TotalMilliseconds;
foreach (var client in clients)
{
    try { await client.DisconnectAsync(true); } catch (Exception) { }
    client.Dispose();
}
var completed = options.Messages - errors;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"sessions={options.Sessions} messages={completed} errors={errors} seconds={seconds:F3} rate={completed / seconds:F1} client_cpu_us_per_msg={cpuMs * 1000 / Math.Max(completed, 1):F0}"));
if (firstError is not null)
    Console.Error.WriteLine("first error: " + firstError);
return errors == 0 ? 0 : 1;

static MimeMessage BuildMessage(Options o)
{
    var m = new MimeMessage();
    m.From.Add(MailboxAddress.Parse(o.From));
    m.To.Add(MailboxAddress.Parse(o.To));
    m.Subject = "Load test";
    m.Headers.Add("X-PM-Tag", "bench");
    // Printable lines of 76 characters up to the size asked for (headers come on top, as with smtp-source -l).
    var body = new StringBuilder(o.Size + 128);
    var line = 0;
    while (body.Length < o.Size)
        body.Append(CultureInfo.InvariantCulture, $"{line++:D6} The quick brown fox jumps over the lazy dog; pack my box with liquor\r\n");
    m.Body = new TextPart("plain") { Text = body.ToString(0, o.Size) };
    return m;
}

internal sealed record Options(string Host, int Port, int Sessions, int Messages, int Size, string? User, string? Password, bool StartTls, string From, string To,
    bool ClientNoDelay)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string? Maybe(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        return new Options(Get("--host", "127.0.0.1"), Int("--port", 2525), Int("--sessions", 10), Int("--messages", 2000), Int("--size", 5120),
            Maybe("--user"), Maybe("--password"), args.Contains("--starttls"), Get("--from", "load@bench.test"), Get("--to", "sink@bench.test"),
            !args.Contains("--client-nagle"));
    }
}
