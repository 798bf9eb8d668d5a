using System.Diagnostics;

namespace Sidecar.GitSync;

/// <summary>
/// One sync, git-sync's way: ask the remote what the ref points at; if that is already published,
/// stop; else fetch it, write its snapshot, publish it with an atomic link swap, and clean up.
/// </summary>
public sealed class GitSynchronizer(
    GitSyncOptions options,
    SnapshotPublisher publisher,
    SyncStatus status,
    GitSyncTelemetry telemetry,
    TimeProvider timeProvider,
    ILogger<GitSynchronizer> logger)
{
    public async Task<SyncResult> SyncAsync(CancellationToken cancellationToken)
    {
        // libgit2 calls block; run them off the caller's thread.
        return await Task.Run(() => Sync(cancellationToken), cancellationToken);
    }

    private SyncResult Sync(CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        using var activity = GitSyncTelemetry.ActivitySource.StartActivity("sync");
        activity?.SetTag("gitsync.repo", RepoForLogs(options.Repo));
        activity?.SetTag("gitsync.ref", options.Ref);
        SyncResult result;
        try
        {
            result = SyncCore(activity, started, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var message = e is SyncException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            logger.LogError(e, "Sync of {Repo} at {Ref} failed: {Error}; published: {Revision}",
                RepoForLogs(options.Repo), options.Ref, message, publisher.CurrentRevision() ?? "no revision");
            activity?.SetStatus(ActivityStatusCode.Error, message);
            activity?.AddException(e);
            result = new SyncResult(SyncOutcome.Error, publisher.CurrentRevision(), timeProvider.GetElapsedTime(started), message);
        }
        activity?.SetTag("gitsync.outcome", result.Outcome.ToString().ToLowerInvariant());
        telemetry.RecordSync(result.Outcome, result.Duration);
        status.Record(result);
        return result;
    }

    private SyncResult SyncCore(Activity? activity, long started, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Root);
        var current = publisher.CurrentRevision();
        using var repository = GitRepository.Open(options.Root, options.Repo);

        LibGit2Sharp.Commit commit;
        using (var fetch = GitSyncTelemetry.ActivitySource.StartActivity("fetch"))
        {
            var remote = repository.ResolveRemote(options.Ref);
            fetch?.SetTag("gitsync.remote_ref", remote.RemoteRef);
            fetch?.SetTag("gitsync.revision", remote.Sha);
            activity?.SetTag("gitsync.revision", remote.Sha);
            if (remote.Sha == current)
            {
                fetch?.SetTag("gitsync.fetched", false);
                logger.LogDebug("No change: {Ref} is still {Revision}", options.Ref, current);
                return new SyncResult(SyncOutcome.Noop, current, timeProvider.GetElapsedTime(started));
            }
            commit = repository.Fetch(remote, options.Depth);
            fetch?.SetTag("gitsync.fetched", true);
            logger.LogInformation("Fetched {Revision} for {Ref} (depth {Depth})", commit.Sha, options.Ref, options.Depth);
        }

        using (var snapshot = GitSyncTelemetry.ActivitySource.StartActivity("snapshot"))
        {
            var statistics = publisher.Prepare(commit, cancellationToken);
            snapshot?.SetTag("gitsync.files", statistics?.Files ?? 0);
            snapshot?.SetTag("gitsync.reused", statistics is null);
            if (statistics is not null)
            {
                logger.LogInformation("Wrote snapshot {Revision}: {Files} files, {Bytes} bytes", commit.Sha, statistics.Files, statistics.Bytes);
            }
        }

        using (GitSyncTelemetry.ActivitySource.StartActivity("publish"))
        {
            publisher.Publish(commit.Sha);
            publisher.RemoveStale(commit.Sha);
        }
        return new SyncResult(SyncOutcome.Success, commit.Sha, timeProvider.GetElapsedTime(started));
    }

    /// <summary>The repo URL without any password, so it can be logged.</summary>
    public static string RepoForLogs(string repo) =>
        Uri.TryCreate(repo, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : repo;
}
