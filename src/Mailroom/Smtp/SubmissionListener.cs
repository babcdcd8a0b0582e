using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Mailroom.Core.Ingress;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Mailroom.Smtp;

/// <summary>
/// Creates the submission port's listener (registered with the library as its <see cref="IEndpointListenerFactory"/>).
/// <see cref="Bound"/> completes once the port is bound, so start-up can fail loudly and tests learn the port.
/// </summary>
internal sealed class SubmissionListenerFactory(SmtpSubmissionLimits limits, CommandGate gate, bool noDelay, ILogger log) : IEndpointListenerFactory
{
    public TaskCompletionSource<IPEndPoint> Bound { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        try
        {
            listener.Start(backlog: 512);
        }
        catch (Exception e)
        {
            Bound.TrySetException(e);
            throw;
        }
        var local = (IPEndPoint)listener.LocalEndpoint;
        Bound.TrySetResult(local);
        log.LogInformation("SMTP submission listening on {Endpoint}", local);
        return new SubmissionListener(listener, limits, gate, noDelay, log);
    }
}

/// <summary>
/// Accepts connections for the library, one per call. Each accepted socket gets TCP_NODELAY: the library flushes
/// each reply as its own small write, and with Nagle's algorithm on, a reply written while the previous one is
/// unacknowledged waits for the client's delayed ACK (~40 ms on Linux). A pipelining client (RFC 2920) meets that
/// wait once per message, which held one connection to ~22 messages/s. Connections over the per-address or total
/// limit get <c>421 4.7.0</c> and are closed before any session starts (RFC 5321 §3.8 lets a server refuse at the
/// greeting).
/// </summary>
internal sealed class SubmissionListener(TcpListener listener, SmtpSubmissionLimits limits, CommandGate gate, bool noDelay, ILogger log) : IEndpointListener
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private int _total;

    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            var socket = await listener.AcceptSocketAsync(cancellationToken);
            socket.NoDelay = noDelay;
            var remote = (IPEndPoint)socket.RemoteEndPoint!;
            if (!TryOpen(remote.Address, out var why))
            {
                log.LogWarning("SMTP connection from {Address} refused: {Reason}", remote.Address, why);
                _ = RefuseAsync(socket, why);
                continue;
            }
            try
            {
                var pipe = new SubmissionPipe(socket, limits, () => Closed(remote.Address));
                context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
                context.Properties[EndpointListener.RemoteEndPointKey] = remote;
                gate.Attach(context, pipe);
                return pipe;
            }
            catch
            {
                Closed(remote.Address);
                socket.Dispose();
                throw;
            }
        }
    }

    private bool TryOpen(IPAddress address, out string why)
    {
        why = "";
        if (Interlocked.Increment(ref _total) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref _total);
            why = "Too many connections; try again later";
            return false;
        }
        var count = _perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (count > limits.MaxConnectionsPerAddress)
        {
            Closed(address);
            why = $"Too many connections from {address}; try again later";
            return false;
        }
        return true;
    }

    private void Closed(IPAddress address)
    {
        Interlocked.Decrement(ref _total);
        // Decrement, and drop the entry at zero so the table holds only addresses with open connections.
        while (_perAddress.TryGetValue(address, out var n))
        {
            if (n <= 1 ? _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, n)) : _perAddress.TryUpdate(address, n - 1, n))
                return;
        }
    }

    private static async Task RefuseAsync(Socket socket, string why)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await socket.SendAsync(Encoding.ASCII.GetBytes($"421 4.7.0 {why}\r\n"), SocketFlags.None, timeout.Token);
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Nothing to tell a client that is gone.
        }
        finally
        {
            socket.Dispose();
        }
    }

    public void Dispose() => listener.Stop();
}
