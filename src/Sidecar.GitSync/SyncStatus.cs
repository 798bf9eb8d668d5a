namespace Sidecar.GitSync;

/// <summary>What the readiness endpoint reports: whether a revision is published, and the last sync's result.</summary>
public sealed class SyncStatus
{
    private volatile SyncResult? last;
    private volatile string? publishedRevision;

    public string? PublishedRevision => publishedRevision;

    public SyncResult? LastResult => last;

    /// <summary>True once a revision is published, by a sync of this process or found in place at start.</summary>
    public bool IsReady => publishedRevision is not null;

    public void Record(SyncResult result)
    {
        last = result;
        if (result.Revision is not null && result.Outcome != SyncOutcome.Error)
        {
            publishedRevision = result.Revision;
        }
    }
}

/// <summary>The result of one sync. <see cref="Revision"/> is what is published after it.</summary>
public sealed record SyncResult(SyncOutcome Outcome, string? Revision, TimeSpan Duration, string? Error = null);
