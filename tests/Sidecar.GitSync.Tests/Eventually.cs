namespace Sidecar.GitSync.Tests;

/// <summary>Waits for a condition that a background loop makes true.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, string because, int seconds = 20)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"within {seconds} s: {because}");
            await Task.Delay(25);
        }
    }

    /// <summary>As above, with the process's output in the message when it does not hold.</summary>
    public static Task HoldsAsync(Func<bool> condition, string because, SidecarProcess process, int seconds = 20) =>
        HoldsAsync(() => Task.FromResult(condition()), because, process, seconds);

    /// <summary>As above, for a condition that has to be awaited (a request to the process, say).</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string because, SidecarProcess process, int seconds = 20)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"within {seconds} s: {because}\n{process.Output}");
            await Task.Delay(25);
        }
    }
}
