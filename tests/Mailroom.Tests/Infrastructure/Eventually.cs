namespace Mailroom.Tests.Infrastructure;

/// <summary>Waits for a condition that a background worker makes true (polling, bounded). Not a timing assertion:
/// the bound only keeps a broken build from hanging.</summary>
public static class Eventually
{
    public static async Task True(Func<Task<bool>> condition, int timeoutSeconds = 20, string? because = null)
    {
        var until = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (DateTime.UtcNow < until)
        {
            if (await condition())
                return;
            await Task.Delay(25);
        }
        throw new Xunit.Sdk.XunitException("Condition not met within " + timeoutSeconds + " s" + (because is null ? "" : ": " + because));
    }
}
