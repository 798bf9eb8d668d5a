namespace Sidecar.GitSync.Sync;

/// <summary>
/// Wakes the loop before its period ends (a signal, <c>POST /sync</c>) and hands each caller the result of a sync
/// that started after it asked, so a push just before the request is always seen.
/// </summary>
public sealed class SyncTrigger(TimeProvider timeProvider)
{
    private readonly SemaphoreSlim wake = new(0);
    private readonly Lock gate = new();
    private List<TaskCompletionSource<SyncResult>> waiting = [];

    /// <summary>Starts a sync now (or right after the one under way).</summary>
    public void Wake()
    {
        if (wake.CurrentCount == 0)
        {
            wake.Release();
        }
    }

    /// <summary>Starts a sync now and returns its result when it ends.</summary>
    public Task<SyncResult> RequestAsync(CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<SyncResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            waiting.Add(completion);
        }
        Wake();
        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Called by the loop as a sync starts: the callers waiting now get this sync's result.</summary>
    public List<TaskCompletionSource<SyncResult>> TakeWaiting()
    {
        lock (gate)
        {
            var taken = waiting;
            waiting = [];
            return taken;
        }
    }

    /// <summary>Waits for <paramref name="period"/>, or less when woken.</summary>
    public async Task WaitAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        using var periodEnd = new CancellationTokenSource(period, timeProvider);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, periodEnd.Token);
        try
        {
            await wake.WaitAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            // The period is over, or stopping: the loop sees the token and ends.
        }
    }
}
