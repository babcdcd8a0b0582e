using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mailroom.Core.Ingress;
using Mailroom.Mail;
using SmtpServer.IO;

namespace Mailroom.Smtp;

/// <summary>
/// One client connection (of either listener) as the SmtpServer library reads and writes it. Ours rather than the
/// library's so that we own the socket (TCP_NODELAY, the per-address count), the STARTTLS upgrade (TLS 1.2 and 1.3
/// only) and the input limits the library lacks (<see cref="InputGuard"/>).
/// </summary>
internal sealed class SmtpPipe : ISecurableDuplexPipe
{
    private readonly NetworkStream _network;
    private readonly SmtpListenerLimits _limits;
    private readonly Action _closed;
    private Stream _stream;
    private readonly HeldReplies _replies;
    private int _disposed;

    public SmtpPipe(Socket socket, SmtpListenerLimits limits, DataBudget budget, Action closed)
    {
        Remote = (IPEndPoint)socket.RemoteEndPoint!;
        _limits = limits;
        _closed = closed;
        // Bounds the synchronous writes (a reply before closing, the held replies at the end): a client that reads
        // nothing must not hold a thread. Asynchronous writes are bounded by the read and data timeouts instead.
        socket.SendTimeout = 5_000;
        _network = new NetworkStream(socket, ownsSocket: true);
        _stream = _network;
        _replies = new HeldReplies(_network);
        Guard = new InputGuard(_network, limits, budget, WriteReply, _replies.SendAsync);
        Input = PipeReader.Create(Guard, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(_replies, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public IPEndPoint Remote { get; }
    public InputGuard Guard { get; }
    public PipeReader Input { get; private set; }
    public PipeWriter Output { get; private set; }
    public bool IsSecure => _stream is SslStream;
    public SslProtocols SslProtocol => (_stream as SslStream)?.SslProtocol ?? SslProtocols.None;

    /// <summary>
    /// STARTTLS (RFC 3207). The reader and writer are replaced: plain-text input the client pipelined after
    /// STARTTLS is dropped with the old reader, never read as commands (RFC 3207 §4.2: nothing from before the
    /// handshake counts after it). <paramref name="protocols"/> is TLS 1.2 | 1.3 from the endpoint.
    /// </summary>
    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(_network, leaveInnerStreamOpen: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_limits.DataTimeout);
        try
        {
            // The 220 to STARTTLS must reach the client before it can start the handshake.
            await _replies.SendAsync(timeout.Token);
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                EnabledSslProtocols = protocols,
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, timeout.Token);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
        await Input.CompleteAsync();
        _stream = ssl;
        _replies.Restart(ssl);
        Guard.Restart(ssl);
        Input = PipeReader.Create(Guard, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(_replies, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <summary>A reply written outside the library's flow, just before the guard closes the connection.</summary>
    private void WriteReply(string reply)
    {
        try
        {
            _replies.Send(); // after the replies already written, in order
            _stream.Write(Encoding.ASCII.GetBytes(reply + "\r\n"));
            _stream.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The client is gone already.
        }
    }

    /// <summary>
    /// The replies held when the session ends (221 to QUIT, 421 on a timeout): sent before the socket closes, with a
    /// bounded wait so a client that reads nothing cannot hold the session's end.
    /// </summary>
    private void SendLastReplies()
    {
        try
        {
            _replies.Send();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The client is gone already.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        try
        {
            Guard.EndData();
            SendLastReplies();
            if (_stream is SslStream ssl)
                ssl.Dispose();
            _network.Dispose();
        }
        finally
        {
            _closed();
        }
    }
}

/// <summary>
/// The library's output stream: it writes and flushes each reply on its own, which is one send (and one wake-up of
/// the client) per reply. Replies are held here instead, and sent together just before the session next waits for
/// the client (<see cref="InputGuard"/> calls <see cref="SendAsync"/> before each read of the socket), as Postfix's
/// smtpd does: a pipelining client (RFC 2920) that sent MAIL, RCPT and DATA in one packet gets their three replies in
/// one, and a client that waits for each reply gets it as soon as it is written, since the session then waits for
/// input. Nothing is held while the session waits on anything else than the client for long: the one long wait, the
/// commit behind the reply to the message content, comes after its 354 was sent (content is read from the socket).
/// </summary>
internal sealed class HeldReplies(Stream inner) : Stream
{
    /// <summary>Beyond this much held output (a long run of pipelined commands), send at once.</summary>
    private const int MaxHeld = 16 * 1024;

    private Stream _inner = inner;
    private byte[] _held = new byte[512];
    private int _count;

    /// <summary>After STARTTLS: replies go through TLS (the held ones were sent before the handshake).</summary>
    public void Restart(Stream stream)
    {
        _count = 0;
        _inner = stream;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Hold(buffer);
        if (_count > MaxHeld)
            Send();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Hold(buffer.Span);
        if (_count > MaxHeld)
            await SendAsync(cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Hold(ReadOnlySpan<byte> buffer)
    {
        if (_count + buffer.Length > _held.Length)
            Array.Resize(ref _held, Math.Max(_held.Length * 2, _count + buffer.Length));
        buffer.CopyTo(_held.AsSpan(_count));
        _count += buffer.Length;
    }

    /// <summary>Sends what is held (nothing to do when nothing is).</summary>
    public async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        if (_count == 0)
            return;
        await _inner.WriteAsync(_held.AsMemory(0, _count), cancellationToken);
        await _inner.FlushAsync(cancellationToken);
        _count = 0;
    }

    public void Send()
    {
        if (_count == 0)
            return;
        _inner.Write(_held, 0, _count);
        _inner.Flush();
        _count = 0;
    }

    /// <summary>The library's flush after each reply: held until the session waits for the client.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// Watches what the client sends, below the SmtpServer library, for the limits it does not enforce itself:
/// <list type="bullet">
/// <item>a command line longer than <see cref="SmtpListenerLimits.MaxCommandLineBytes"/> gets
/// <c>500 5.5.2</c> and the connection closes once that much of it was read (RFC 5321 §4.5.3.1: a server may refuse
/// over-long lines);</item>
/// <item>message content over <see cref="SmtpListenerLimits.MaxMessageBytes"/> is read to its end and dropped, so a
/// connection holds at most the limit whatever the client sends, and the store refuses it with <c>552 5.3.4</c>
/// (RFC 1870 §6.3);</item>
/// <item>content that the listener's <see cref="DataBudget"/> has no room for is dropped the same way and refused
/// with <c>452 4.3.1</c>, so all connections together hold at most <see cref="SmtpListenerLimits.MaxDataBytesInFlight"/>;</item>
/// <item>a read that waits longer than the timeout closes the connection (RFC 5321 §4.5.3.2).</item>
/// </list>
/// The library reads commands and content from this stream; it learns that content starts from
/// <see cref="BeginData"/> (the DATA command, after 354) and finds the end itself, as the library does: the first
/// <c>CRLF . CRLF</c> (RFC 5321 §4.1.1.4).
/// </summary>
internal sealed class InputGuard(Stream inner, SmtpListenerLimits limits, DataBudget budget, Action<string> reply,
    Func<CancellationToken, ValueTask> sendHeldReplies) : ReadOnlyStream
{
    private static readonly byte[] EndOfData = "\r\n.\r\n"u8.ToArray();
    /// <summary>Room over the limit for dot-stuffing (RFC 5321 §4.5.2) and the final CRLF.</summary>
    private const int Slack = 64 * 1024;

    private Stream _inner = inner;
    private long _lineLength;
    private bool _inData;
    private long _dataBytes;
    /// <summary>How much of CRLF.CRLF the content seen so far ends with (0–5, as a match position).</summary>
    private int _endMatch;
    private byte[]? _pending;
    private int _pendingOffset;

    /// <summary>Content of the current message taken from the budget, given back by <see cref="EndData"/>.</summary>
    private long _held;

    /// <summary>True once the current message went over the limit; reset by <see cref="BeginData"/>.</summary>
    public bool Oversized { get; private set; }

    /// <summary>True once the listener's budget had no room for the current message; reset by <see cref="BeginData"/>.</summary>
    public bool NoRoom { get; private set; }

    public void BeginData()
    {
        EndData();
        _inData = true;
        _dataBytes = 0;
        _endMatch = 0;
        Oversized = false;
        NoRoom = false;
    }

    /// <summary>The current message is answered (or the connection ends): its content goes back to the budget.</summary>
    public void EndData() => budget.Return(Interlocked.Exchange(ref _held, 0));

    /// <summary>What the store must answer instead of taking the message, or null to take it.</summary>
    public SmtpReply? ContentRefusal(long length)
    {
        if (Oversized || length > limits.MaxMessageBytes)
            return new SmtpReply(552, "5.3.4", $"Message size exceeds fixed maximum message size of {limits.MaxMessageBytes} bytes");
        if (NoRoom)
            return new SmtpReply(452, "4.3.1", "Insufficient system resources for this message now; try again later");
        return null;
    }

    /// <summary>After STARTTLS: read through TLS, from the start of a line.</summary>
    public void Restart(Stream stream)
    {
        _inner = stream;
        _lineLength = 0;
        _pending = null;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pending is not null)
            return ServePending(buffer.Span);
        while (true)
        {
            int n;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // In commands the library's own wait (CommandTimeout) answers first; this is the backstop for the
                // lines it reads without one (AUTH continuations), and the data timeout during content.
                timeout.CancelAfter(_inData ? limits.DataTimeout : limits.CommandTimeout + TimeSpan.FromMinutes(1));
                try
                {
                    // The session waits for the client now: it must have every reply written so far (HeldReplies).
                    await sendHeldReplies(timeout.Token);
                    n = await _inner.ReadAsync(buffer, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    reply("421 4.4.2 Timeout waiting for the client; closing the connection");
                    throw new TimeoutException("The SMTP client sent nothing within the timeout.");
                }
            }
            if (n == 0)
                return 0;
            if (!_inData)
            {
                CheckLines(buffer.Span[..n]);
                return n;
            }
            var end = FindEnd(buffer.Span[..n]);
            if (!Oversized && !NoRoom)
            {
                var content = end < 0 ? n : end;
                _dataBytes += content;
                if (_dataBytes > limits.MaxMessageBytes + Slack)
                    Oversized = true;
                else if (budget.TryTake(content))
                    Interlocked.Add(ref _held, content);
                else
                    NoRoom = true;
                if (end >= 0)
                {
                    _inData = false;
                    CheckLines(buffer.Span[end..n]);
                }
                return n;
            }
            if (end < 0)
                continue; // over a limit: drop content until its end
            // The end of the dropped content: hand the library the terminator it looks for, then what follows.
            _inData = false;
            var rest = buffer.Span[end..n];
            CheckLines(rest);
            _pending = [.. EndOfData, .. rest];
            _pendingOffset = 0;
            return ServePending(buffer.Span);
        }
    }

    private int ServePending(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, _pending!.Length - _pendingOffset);
        _pending.AsSpan(_pendingOffset, count).CopyTo(buffer);
        _pendingOffset += count;
        if (_pendingOffset == _pending.Length)
            _pending = null;
        return count;
    }

    /// <summary>The index just past the first CRLF.CRLF of the content (which may have begun in an earlier read), or -1.</summary>
    private int FindEnd(ReadOnlySpan<byte> span)
    {
        for (var i = 0; i < span.Length; i++)
        {
            if (_endMatch == 0)
            {
                // Most bytes are mid-line: jump to the next CR.
                var cr = span[i..].IndexOf((byte)'\r');
                if (cr < 0)
                    return -1;
                i += cr;
            }
            var b = span[i];
            if (b == EndOfData[_endMatch])
            {
                if (++_endMatch == EndOfData.Length)
                {
                    _endMatch = 0;
                    return i + 1;
                }
            }
            else
            {
                _endMatch = b == '\r' ? 1 : 0;
            }
        }
        return -1;
    }

    private void CheckLines(ReadOnlySpan<byte> span)
    {
        while (span.Length > 0)
        {
            var lf = span.IndexOf((byte)'\n');
            var segment = lf < 0 ? span.Length : lf;
            _lineLength += segment;
            if (_lineLength > limits.MaxCommandLineBytes)
            {
                reply("500 5.5.2 Line too long; closing the connection");
                throw new IOException($"SMTP command line longer than {limits.MaxCommandLineBytes} octets.");
            }
            if (lf < 0)
                return;
            _lineLength = 0;
            span = span[(lf + 1)..];
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
