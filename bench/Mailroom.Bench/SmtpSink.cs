using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mailroom.Bench;

/// <summary>
/// A minimal loopback SMTP sink for the <c>send</c> bench: raw sockets + System.IO.Pipelines, TCP_NODELAY, EHLO
/// advertises PIPELINING/8BITMIME/SIZE (no STARTTLS, no AUTH). Every complete command in a read is answered in one
/// write (so pipelined MAIL/RCPT/DATA work); DATA is scanned line by line up to the lone "."; each accepted message
/// adds 1 to <see cref="Messages"/>. Nothing is stored.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private long _messages;
    private long _connections;

    public int Port { get; }
    public long Messages => Interlocked.Read(ref _messages);
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Minimum time between two accepted messages over all connections (a slow destination), or zero.</summary>
    private readonly long _pacingTicks;
    private long _nextSlot;

    public SmtpSink() : this(TimeSpan.Zero) { }

    /// <param name="pacing">When positive, the sink answers the end of each message's DATA no sooner than one
    /// <paramref name="pacing"/> after the previous one's (all connections share the pace): a destination that
    /// accepts one message per <paramref name="pacing"/>.</param>
    public SmtpSink(TimeSpan pacing)
    {
        _pacingTicks = (long)(pacing.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _accept = Task.Run(AcceptLoop);
    }

    public void Reset() => Interlocked.Exchange(ref _messages, 0);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception) { return; }
            s.NoDelay = true;
            Interlocked.Increment(ref _connections);
            _ = Task.Run(() => Serve(s));
        }
    }

    private static readonly byte[] Greeting = "220 sink.bench ESMTP\r\n"u8.ToArray();
    private static readonly byte[] Ehlo = "250-sink.bench\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n250 ENHANCEDSTATUSCODES\r\n"u8.ToArray();
    private static readonly byte[] Helo = "250 sink.bench\r\n"u8.ToArray();
    private static readonly byte[] Ok = "250 2.0.0 OK\r\n"u8.ToArray();
    private static readonly byte[] Queued = "250 2.0.0 queued\r\n"u8.ToArray();
    private static readonly byte[] StartData = "354 go ahead\r\n"u8.ToArray();
    private static readonly byte[] Bye = "221 2.0.0 bye\r\n"u8.ToArray();
    private static readonly byte[] Unknown = "502 5.5.2 unknown\r\n"u8.ToArray();

    private async Task Serve(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 4096));
        try
        {
            writer.Write(Greeting);
            await writer.FlushAsync(_stop.Token);
            var inData = false;
            var quit = false;
            while (!quit)
            {
                var result = await reader.ReadAsync(_stop.Token);
                var buffer = result.Buffer;
                var wrote = false;
                var paced = 0;
                var sr = new SequenceReader<byte>(buffer);
                while (sr.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
                {
                    if (inData)
                    {
                        if (IsDot(line))
                        {
                            inData = false;
                            paced++;
                            Interlocked.Increment(ref _messages);
                            writer.Write(Queued);
                            wrote = true;
                        }
                        continue;
                    }
                    var reply = Reply(line, ref inData, ref quit);
                    writer.Write(reply);
                    wrote = true;
                    if (quit)
                        break;
                }
                reader.AdvanceTo(sr.Position, buffer.End);
                // A slow destination: the replies to this read's message ends go out once each has had its slot.
                for (var i = 0; _pacingTicks > 0 && i < paced; i++)
                    await PaceAsync();
                if (wrote)
                    await writer.FlushAsync(_stop.Token);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception) { /* client went away or sink stopped */ }
        finally
        {
            await reader.CompleteAsync();
            await writer.CompleteAsync();
        }
    }

    /// <summary>Waits for this message's slot: slots are <see cref="_pacingTicks"/> apart, taken in arrival order.</summary>
    private async Task PaceAsync()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        long slot;
        while (true)
        {
            var next = Interlocked.Read(ref _nextSlot);
            slot = Math.Max(next, now);
            if (Interlocked.CompareExchange(ref _nextSlot, slot + _pacingTicks, next) == next)
                break;
        }
        var wait = System.Diagnostics.Stopwatch.GetElapsedTime(now, slot);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, _stop.Token);
    }

    private static bool IsDot(ReadOnlySequence<byte> line)
    {
        if (line.Length is < 1 or > 2)
            return false;
        Span<byte> b = stackalloc byte[2];
        line.CopyTo(b);
        return b[0] == (byte)'.' && (line.Length == 1 || b[1] == (byte)'\r');
    }

    private static byte[] Reply(ReadOnlySequence<byte> line, ref bool inData, ref bool quit)
    {
        Span<byte> verb = stackalloc byte[4];
        if (line.Length < 4)
            return Unknown;
        line.Slice(0, 4).CopyTo(verb);
        for (var i = 0; i < 4; i++)
            verb[i] = (byte)(verb[i] & 0xDF); // upper case
        switch (Encoding.ASCII.GetString(verb))
        {
            case "EHLO": return Ehlo;
            case "HELO": return Helo;
            case "MAIL" or "RCPT" or "RSET" or "NOOP": return Ok;
            case "DATA": inData = true; return StartData;
            case "QUIT": quit = true; return Bye;
            default: return Unknown;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        try { await _accept; } catch { }
    }
}
