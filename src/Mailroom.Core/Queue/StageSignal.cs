namespace Mailroom.Core.Queue;

/// <summary>Wakes a stage as soon as the stage before it has handed over rows, instead of waiting for its poll.
/// Only a hint: every stage also polls, so a lost pulse (or another node's work) delays, never loses.</summary>
public class StageSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Pulse()
    {
        if (_signal.CurrentCount == 0)
            try { _signal.Release(); } catch (SemaphoreFullException) { }
    }

    public async Task WaitAsync(TimeSpan max, CancellationToken ct) => await _signal.WaitAsync(max, ct);
}

/// <summary>Accepted messages wait for Preparation.</summary>
public sealed class PreparationSignal : StageSignal;

/// <summary>Deliveries wait for the delivery workers.</summary>
public sealed class DeliverySignal : StageSignal;
