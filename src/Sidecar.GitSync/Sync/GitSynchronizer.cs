using System.Diagnostics;
using LibGit2Sharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Sidecar.GitSync.SignatureVerification;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Hooks;
using Sidecar.GitSync.Snapshots;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Sync;

/// <summary>
/// One sync, git-sync's way: ask the remote what the ref points at; if that is already published,
/// stop; else fetch it, write its snapshot, publish it with an atomic link swap, and clean up.
/// Syncs never overlap, and each is bounded by <c>--sync-timeout</c>.
/// </summary>
public sealed partial class GitSynchronizer(
    GitSyncOptions options,
    SnapshotPublisher publisher,
    SyncStatus status,
    GitSyncTelemetry telemetry,
    PublishHooks hooks,
    ErrorFile errorFile,
    TouchFile touchFile,
    CredentialRefresh credentialRefresh,
    SignatureGate signatures,
    TimeProvider timeProvider,
    ILogger<GitSynchronizer> logger)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private bool hooksRunForRevisionInPlace;
    private bool depthWarned;
    private bool memoryReleasedOnce;

    // git-sync counts the first good sync of a process as a fetch and a success even when the revision was in place.
    private bool syncedOnce;

    /// <summary>The hooks of the last sync, for <c>--one-time</c> to run before it exits.</summary>
    public HookRequest? LastHookRequest { get; private set; }

    public async Task<SyncResult> SyncAsync(CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        using var activity = GitSyncTelemetry.ActivitySource.StartActivity("sync");
        activity?.SetTag("gitsync.repo", RepositoryUrl.ForLogs(options.Repo));
        activity?.SetTag("gitsync.ref", options.Ref);
        using var deadline = new CancellationTokenSource(options.SyncTimeout, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        SyncResult result;
        var firstGoodSync = false;
        try
        {
            // A sync abandoned at its timeout may still be inside libgit2; the next one waits for it, within its own timeout.
            await gate.WaitAsync(timeout.Token);
            var synced = new TaskCompletionSource<SyncResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var work = Task.Run(() =>
            {
                try
                {
                    SyncResult core;
                    try
                    {
                        core = SyncCore(activity, started, timeout.Token);
                        // Under the gate, so a sync started now by POST /sync does not count the first one again.
                        firstGoodSync = !syncedOnce;
                        syncedOnce = true;
                    }
                    catch (Exception e)
                    {
                        synced.TrySetException(e);
                        return;
                    }
                    synced.TrySetResult(core);
                    // Still under the gate, so no fetch runs while the store is repacked.
                    CollectGarbage(core, cancellationToken);
                    // After a publish, and once after the first sync (start-up's garbage), so an idle sidecar is not at its peak.
                    if (core.Outcome == SyncOutcome.Success || !memoryReleasedOnce)
                    {
                        memoryReleasedOnce = true;
                        MemoryRelease.GiveBack();
                    }
                }
                finally
                {
                    gate.Release();
                }
            }, CancellationToken.None);
            try
            {
                result = await synced.Task.WaitAsync(timeout.Token);
                // The repack is not bounded by --sync-timeout: it never fails the sync, so the sync is not timed on it.
                await work.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: let the work reach its next cancellation check, so nothing writes to the root after stop.
                await work.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(10), timeProvider, CancellationToken.None)
                    .ContinueWith(_ => { }, TaskScheduler.Default);
                throw;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var message = e switch
            {
                OperationCanceledException => $"the sync did not finish within {GoDuration.Format(options.SyncTimeout)}: raise --sync-timeout or check that the remote answers",
                SyncException => e.Message,
                _ => $"{e.GetType().Name}: {e.Message}",
            };
            // The stack only for what is not a named failure.
            LogSyncFailed(e is SyncException or OperationCanceledException or LibGit2SharpException ? null : e,
                RepositoryUrl.ForLogs(options.Repo), options.Ref, message, publisher.CurrentRevision() ?? "no revision");
            activity?.SetStatus(ActivityStatusCode.Error, message);
            activity?.AddException(e);
            result = new SyncResult(SyncOutcome.Error, publisher.CurrentRevision(), timeProvider.GetElapsedTime(started), message);
        }
        activity?.SetTag("gitsync.outcome", result.Outcome.ToString().ToLowerInvariant());
        // As git-sync's git_sync_count_total: the first good sync of a process is a "success" even when nothing changed.
        telemetry.RecordSync(result.Outcome == SyncOutcome.Noop && firstGoodSync ? SyncOutcome.Success : result.Outcome, result.Duration);
        status.Record(result, timeProvider.GetUtcNow());
        AfterSync(result, activity);
        return result;
    }

    private void AfterSync(SyncResult result, Activity? activity)
    {
        if (result.Outcome == SyncOutcome.Error)
        {
            errorFile.Write(result.Error!);
            return;
        }
        if (signatures.AuditFinding(result.Revision) is { } finding)
        {
            errorFile.Write(finding);
        }
        else
        {
            errorFile.Remove();
        }
        // Hooks run for each new revision, and once at start when the revision was already in place.
        var runHooks = result.Outcome == SyncOutcome.Success || !hooksRunForRevisionInPlace;
        hooksRunForRevisionInPlace = true;
        if (result.Outcome == SyncOutcome.Success)
        {
            touchFile.Touch();
        }
        if (runHooks && result.Revision is not null && hooks.Any)
        {
            LastHookRequest = new HookRequest(result.Revision, activity?.Context ?? default);
            if (!options.OneTime)
            {
                hooks.Enqueue(LastHookRequest);
            }
        }
    }

    // Set by a sync that published, or whose cleanup removed a snapshot: then objects may have become unreachable.
    private bool cleanedUp;

    /// <summary>
    /// <c>--git-gc</c>: after the cleanup of a sync that changed what is kept, repack the store to hold only what the
    /// published revision and the kept snapshots need. A failure is logged and never fails the sync.
    /// </summary>
    private void CollectGarbage(SyncResult result, CancellationToken cancellationToken)
    {
        if (!cleanedUp || result.Outcome == SyncOutcome.Error || options.GitGc == GitGcMode.Off || cancellationToken.IsCancellationRequested)
        {
            return;
        }
        cleanedUp = false;
        using var gc = GitSyncTelemetry.ActivitySource.StartActivity("gc");
        gc?.SetTag("gitsync.gc.mode", options.GitGc.ToString().ToLowerInvariant());
        try
        {
            if (!Directory.Exists(GitDirectory))
            {
                gc?.SetTag("gitsync.gc.repacked", false);
                return;
            }
            bool Needed(string store) => options.GitGc != GitGcMode.Auto
                || GitGarbageCollector.NeedsAuto(store, options.GcAutoPackLimit, options.GcAutoLooseObjects);
            var keep = publisher.SnapshotRevisions().Append(result.Revision).Append(publisher.CurrentRevision()).OfType<string>().ToList();
            var repacked = Needed(GitDirectory);
            gc?.SetTag("gitsync.gc.repacked", repacked);
            if (repacked)
            {
                var done = GitGarbageCollector.Collect(GitDirectory, keep, timeProvider);
                gc?.SetTag("gitsync.gc.objects", done.Objects);
                gc?.SetTag("gitsync.gc.packs_removed", done.PacksRemoved);
                gc?.SetTag("gitsync.gc.loose_removed", done.LooseRemoved);
                LogCollected(done.Objects, done.PacksRemoved, done.LooseRemoved, GoDuration.Format(done.Duration));
            }
            // The submodule stores, each by its own thresholds under auto.
            var modules = GitGarbageCollector.CollectSubmodules(GitDirectory, keep, Needed, timeProvider);
            gc?.SetTag("gitsync.gc.submodule_stores_repacked", modules.Count);
            foreach (var (store, done) in modules)
            {
                LogSubmoduleStoreCollected(Path.GetRelativePath(GitDirectory, store), done.Objects, done.PacksRemoved, done.LooseRemoved, GoDuration.Format(done.Duration));
            }
        }
        catch (Exception e)
        {
            gc?.SetStatus(ActivityStatusCode.Error, e.Message);
            gc?.AddException(e);
            // Not retried at every poll (a repack is costly): the next publish tries again.
            LogCollectFailed(e, options.GitGc.ToString().ToLowerInvariant(), GitDirectory, e.Message);
        }
    }

    private SyncResult SyncCore(Activity? activity, long started, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.Root);
        credentialRefresh.Refresh(cancellationToken);
        RefuseDubiousOwnership();
        var scheme = GitConfigSettings.SchemeOf(options.GitConfigSettings.Rewrite(options.Repo));
        if (!options.GitConfigSettings.RepoProtocolAllowed(scheme))
        {
            throw new SyncException($"--repo '{RepositoryUrl.ForLogs(options.Repo)}' uses the {scheme} protocol, which --git-config refuses (protocol.{scheme}.allow or protocol.allow is never): remove that setting or give another URL");
        }
        try
        {
            return SyncWithRepository(activity, started, cancellationToken);
        }
        catch (LibGit2SharpException e) when (e is not NotFoundException && Repairable)
        {
            // The remote answered but the local object store failed us: start it afresh, once.
            Repairable = false;
            LogStoreRecreated(e, e.Message, GitDirectory);
            activity?.AddEvent(new ActivityEvent("object store re-created"));
            GitRepository.Wipe(GitDirectory);
            return SyncWithRepository(activity, started, cancellationToken);
        }
        finally
        {
            Repairable = false;
        }
    }

    // With safe.directory values that leave the root out, a store owned by another user is git's "dubious ownership":
    // stop with git's words rather than take it for a corrupt store and create it afresh.
    private void RefuseDubiousOwnership()
    {
        if (!GlobalSettings.GetOwnerValidation() || !Directory.Exists(GitDirectory))
        {
            return;
        }
        try
        {
            using var probe = new Repository(GitDirectory);
        }
        catch (LibGit2SharpException e) when (e.Message.Contains("not owned by current user", StringComparison.Ordinal))
        {
            throw new SyncException($"detected dubious ownership in repository at '{GitDirectory}' (git's words; libgit2: {e.Message}): add the root to --git-config safe.directory, e.g. safe.directory:{options.Root}, or run as the folder's owner", e);
        }
        catch (LibGit2SharpException)
        {
            // Any other failure is the store's, and the sync's own repair handles it.
        }
    }

    // Set once the remote has answered, so a failure after that point is blamed on the local store.
    private bool Repairable { get; set; }

    private string GitDirectory => Path.Combine(Path.GetFullPath(options.Root), ".git");

    private SyncResult SyncWithRepository(Activity? activity, long started, CancellationToken cancellationToken)
    {
        var current = publisher.CurrentRevision();
        using var repository = GitRepository.Open(options.Root, options.Repo, GitCredentials.For(options),
            repaired: LogStoreRepaired);
        repository.ConfigureSsh(options);
        repository.ConfigureFetch = fetchOptions => TransportSettings.Apply(fetchOptions, options);
        options.GitConfigSettings.ApplyTo(repository.GitDirectory);

        Commit commit;
        string? tagObject;
        using (var fetch = GitSyncTelemetry.ActivitySource.StartActivity("fetch"))
        {
            var remote = repository.ResolveRemote(options.Ref);
            cancellationToken.ThrowIfCancellationRequested();
            fetch?.SetTag("gitsync.remote_ref", remote.RemoteRef);
            fetch?.SetTag("gitsync.revision", remote.Sha);
            activity?.SetTag("gitsync.revision", remote.Sha);
            // As git-sync checks its worktree at each poll: a published snapshot that is no longer whole is written again.
            if (remote.Sha == current && publisher.IsIntact(current))
            {
                fetch?.SetTag("gitsync.fetched", false);
                LogNoChange(options.Ref, current);
                if (!syncedOnce)
                {
                    // git-sync fetches at the first sync of a process whatever it finds, and counts it.
                    telemetry.RecordFetch();
                }
                cleanedUp |= publisher.RemoveStale(current) > 0;
                return new SyncResult(SyncOutcome.Noop, current, timeProvider.GetElapsedTime(started));
            }
            Repairable = true;
            // As git-sync's git_fetch_count_total: one per sync that changes the revision, stored commit or not.
            telemetry.RecordFetch();
            var depth = repository.EffectiveDepth(options.Depth);
            if (depth != options.Depth && !depthWarned)
            {
                depthWarned = true;
                LogFullHistory(options.Depth, repository.FullHistoryReason);
            }
            commit = repository.Fetch(remote, depth, cancellationToken);
            fetch?.SetTag("gitsync.fetched", true);
            LogFetched(commit.Sha, options.Ref, depth);
            tagObject = remote.TagObject;
        }

        // --verify-signatures: under enforce, a revision whose signature is not good stops here, before its snapshot.
        signatures.Check(repository.ObjectStore, commit.Sha, tagObject, activity, current);

        using (var snapshot = GitSyncTelemetry.ActivitySource.StartActivity("snapshot"))
        {
            // Files are hard-linked only from a snapshot known to hold its commit.
            var previous = current is not null && current != commit.Sha && publisher.IsIntact(current) && repository.FindCommit(current) is { } previousCommit
                ? new PreviousSnapshot(previousCommit.Tree, publisher.SnapshotDirectory(current))
                : null;
            var statistics = publisher.Prepare(commit, previous, cancellationToken);
            snapshot?.SetTag("gitsync.files", statistics?.Files ?? 0);
            snapshot?.SetTag("gitsync.files_linked", statistics?.Linked ?? 0);
            snapshot?.SetTag("gitsync.reused", statistics is null);
            if (statistics is not null)
            {
                LogSnapshotWritten(commit.Sha, statistics.Files, statistics.Written, statistics.BytesWritten, statistics.Linked);
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        using (GitSyncTelemetry.ActivitySource.StartActivity("publish"))
        {
            publisher.Publish(commit.Sha);
            publisher.RemoveStale(commit.Sha);
            cleanedUp = true;
        }
        return new SyncResult(SyncOutcome.Success, commit.Sha, timeProvider.GetElapsedTime(started));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sync of {Repo} at {Ref} failed: {Error}; published: {Revision}")]
    private partial void LogSyncFailed(Exception? exception, string repo, string @ref, string error, string revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "gc: {Objects} objects in 1 pack, {PacksRemoved} packs/{LooseRemoved} loose removed, took {Duration}")]
    private partial void LogCollected(int objects, int packsRemoved, int looseRemoved, string duration);

    [LoggerMessage(Level = LogLevel.Information, Message = "gc of submodule store {Store}: {Objects} objects in 1 pack, {PacksRemoved} packs/{LooseRemoved} loose removed, took {Duration}")]
    private partial void LogSubmoduleStoreCollected(string store, int objects, int packsRemoved, int looseRemoved, string duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "gc ({Mode}) of {GitDirectory} failed: {Error}; the sync is not affected and the next publish tries again")]
    private partial void LogCollectFailed(Exception exception, string mode, string gitDirectory, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The object store failed ({Error}); removing {GitDirectory} and syncing again")]
    private partial void LogStoreRecreated(Exception exception, string error, string gitDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{GitDirectory} is corrupt or half-written; creating it afresh")]
    private partial void LogStoreRepaired(string gitDirectory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No change: {Ref} is still {Revision}")]
    private partial void LogNoChange(string @ref, string revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "--depth={Depth} is not possible for {Reason}: all history is fetched")]
    private partial void LogFullHistory(int depth, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched {Revision} for {Ref} (depth {Depth})")]
    private partial void LogFetched(string revision, string @ref, int depth);

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote snapshot {Revision}: {Files} files; {Written} written ({BytesWritten} bytes), {Linked} unchanged and hard-linked")]
    private partial void LogSnapshotWritten(string revision, int files, int written, long bytesWritten, int linked);
}
