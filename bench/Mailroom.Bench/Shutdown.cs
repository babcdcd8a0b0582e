using System.Runtime.InteropServices;

namespace Mailroom.Bench;

/// <summary>
/// Turns the first Ctrl+C / SIGTERM / SIGQUIT into a cancellation so the command's <c>finally</c> blocks stop the
/// child Mailroom and delete its temp folder; a second signal is left to the runtime (immediate exit).
/// </summary>
public sealed class Shutdown : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public Shutdown()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
    }

    public CancellationToken Token => _cts.Token;

    private void OnSignal(PosixSignalContext context)
    {
        if (_cts.IsCancellationRequested)
            return; // second signal: default handling terminates the process
        context.Cancel = true;
        Console.Error.WriteLine($"\n{context.Signal}: stopping Mailroom and cleaning up (send again to exit at once)");
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _cts.Dispose();
    }
}
