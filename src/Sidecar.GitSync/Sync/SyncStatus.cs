using Sidecar.GitSync.SignatureVerification;

namespace Sidecar.GitSync.Sync;

/// <summary>What the HTTP endpoints report: the published revision, the last sync's result, and the failure streak.</summary>
public sealed class SyncStatus
{
    private readonly Lock gate = new();
    private SyncResult? last;
    private string? publishedRevision;
    private DateTimeOffset? lastSyncTime;
    private int consecutiveFailures;
    private DateTimeOffset? publishedSince;
    private SignatureVerdict? lastSignature;
    private string? lastSignatureRevision;
    private SignatureVerdict? publishedSignature;

    public string? PublishedRevision { get { lock (gate) { return publishedRevision; } } }

    public SyncResult? LastResult { get { lock (gate) { return last; } } }

    public DateTimeOffset? LastSyncTime { get { lock (gate) { return lastSyncTime; } } }

    public int ConsecutiveFailures { get { lock (gate) { return consecutiveFailures; } } }

    /// <summary>When the published revision became the published one (or was found in place at start).</summary>
    public DateTimeOffset? PublishedSince { get { lock (gate) { return publishedSince; } } }

    /// <summary>The verdict of the last signature verification (<c>--verify-signatures</c>), whether or not its revision was published.</summary>
    public SignatureVerdict? LastSignature { get { lock (gate) { return lastSignature; } } }

    /// <summary>The verdict on the published revision's signature, when this process verified it: who signed what is served.</summary>
    public SignatureVerdict? PublishedSignature { get { lock (gate) { return publishedSignature; } } }

    public void RecordSignature(SignatureVerdict verdict, string revision)
    {
        lock (gate)
        {
            lastSignature = verdict;
            lastSignatureRevision = revision;
        }
    }

    /// <summary>True once a revision is published, by a sync of this process or found in place at start.</summary>
    public bool IsReady => PublishedRevision is not null;

    /// <summary>The process's exit code once the loop gives up (<c>--max-failures</c> exceeded).</summary>
    public int ExitCode { get; set; }

    public void Record(SyncResult result, DateTimeOffset time)
    {
        lock (gate)
        {
            last = result;
            lastSyncTime = time;
            consecutiveFailures = result.Outcome == SyncOutcome.Error ? consecutiveFailures + 1 : 0;
            if (result.Revision is not null && result.Outcome != SyncOutcome.Error)
            {
                if (result.Revision != publishedRevision)
                {
                    publishedSince = time;
                    publishedSignature = null;
                }
                if (result.Revision == lastSignatureRevision)
                {
                    publishedSignature = lastSignature;
                }
                publishedRevision = result.Revision;
            }
        }
    }
}

/// <summary>The result of one sync. <see cref="Revision"/> is what is published after it.</summary>
public sealed record SyncResult(SyncOutcome Outcome, string? Revision, TimeSpan Duration, string? Error = null);

/// <summary>How a sync ended: a new revision published, nothing changed, or an error (the last good revision stays).</summary>
public enum SyncOutcome
{
    Success,
    Noop,
    Error,
}
