using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using LibGit2Sharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Snapshots;

/// <summary>
/// Owns the on-disk contract: <c>ROOT/.worktrees/SHA</c> holds one complete snapshot per commit, a linked
/// worktree of <c>ROOT/.git</c> at that commit (<see cref="GitWorktree"/>), and
/// <c>LINK</c> is a relative symlink to the published one, replaced with rename(2) so readers see
/// either the old revision or the new one, never a mix.
/// </summary>
public sealed partial class SnapshotPublisher(GitSyncOptions options, SnapshotWriter writer, TimeProvider timeProvider, ILogger<SnapshotPublisher> logger)
{
    public const string WorktreesFolder = ".worktrees";
    private const string TemporaryPrefix = ".tmp-";

    public string WorktreesDirectory => Path.Combine(Path.GetFullPath(options.Root), WorktreesFolder);

    public string SnapshotDirectory(string sha) => Path.Combine(WorktreesDirectory, sha);

    /// <summary>The revision the link points at, or null when there is no link or its snapshot is gone.</summary>
    public string? CurrentRevision()
    {
        var link = new FileInfo(options.LinkPath);
        if (link.LinkTarget is not { } target)
        {
            return null;
        }
        var resolved = Path.GetFullPath(Path.Combine(link.DirectoryName!, target));
        return Directory.Exists(resolved) ? Path.GetFileName(resolved.TrimEnd(Path.DirectorySeparatorChar)) : null;
    }

    private string GitDirectory => Path.Combine(Path.GetFullPath(options.Root), ".git");

    /// <summary>Whether <c>.worktrees/SHA</c> is the sidecar's worktree of that commit (see <see cref="GitWorktree.IsIntact"/>).</summary>
    public bool IsIntact(string sha) => GitWorktree.IsIntact(GitDirectory, sha, SnapshotDirectory(sha));

    /// <summary>
    /// Makes sure <c>.worktrees/SHA</c> is a worktree of the commit, writing it under a temporary name first. A folder
    /// already there is kept only when it is intact; anything else (a folder another program made, a snapshot of an
    /// older layout, one whose worktree entry in <c>ROOT/.git</c> is gone) is replaced, as git-sync replaces a worktree
    /// that fails its check. Returns null when the folder was kept.
    /// </summary>
    public SnapshotStatistics? Prepare(Commit commit, PreviousSnapshot? previous, CancellationToken cancellationToken)
    {
        var final = SnapshotDirectory(commit.Sha);
        var replaced = Directory.Exists(final) || File.Exists(final);
        if (replaced && IsIntact(commit.Sha))
        {
            // Only a complete snapshot is ever renamed to its final name.
            return null;
        }
        if (replaced)
        {
            LogNotOurWorktree(final, commit.Sha);
        }
        Directory.CreateDirectory(WorktreesDirectory);
        var temporary = Path.Combine(WorktreesDirectory, $"{TemporaryPrefix}{commit.Sha}-{Guid.NewGuid():N}");
        try
        {
            var statistics = writer.Write(commit, temporary, previous, cancellationToken);
            GitWorktree.Register(GitDirectory, commit.Sha, final, temporary, statistics.Index);
            if (replaced)
            {
                // Moved aside, not deleted first: the link (which may point here) is without a folder only between two renames.
                var aside = Path.Combine(WorktreesDirectory, $"{TemporaryPrefix}{commit.Sha}-replaced-{Guid.NewGuid():N}");
                if (rename(final, aside) != 0)
                {
                    throw new SyncException($"could not move '{final}' aside ({Marshal.GetLastPInvokeErrorMessage()}): check that the root is writable");
                }
                Directory.Move(temporary, final);
                DeleteQuietly(aside);
            }
            else
            {
                Directory.Move(temporary, final);
            }
            return statistics;
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <summary>Points the link at <c>.worktrees/SHA</c>: a new symlink under a temporary name, renamed over the old one.</summary>
    public void Publish(string sha)
    {
        var linkPath = options.LinkPath;
        var linkDirectory = Path.GetDirectoryName(linkPath)!;
        Directory.CreateDirectory(linkDirectory);
        var relativeTarget = Path.GetRelativePath(linkDirectory, SnapshotDirectory(sha));
        var temporary = Path.Combine(linkDirectory, $"{TemporaryPrefix}{Path.GetFileName(linkPath)}-{Guid.NewGuid():N}");
        var replaced = CurrentRevision();
        File.CreateSymbolicLink(temporary, relativeTarget);
        if (rename(temporary, linkPath) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            File.Delete(temporary);
            throw new SyncException($"could not replace the link '{linkPath}': {error}; check that it is not a real folder and that the root is writable");
        }
        LogPublished(sha, linkPath, relativeTarget);
        if (replaced is not null && replaced != sha)
        {
            // The folder's modification time records when it was replaced, so --stale-worktree-timeout survives restarts.
            try
            {
                Directory.SetLastWriteTimeUtc(SnapshotDirectory(replaced), timeProvider.GetUtcNow().UtcDateTime);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNotMarked(e, replaced);
            }
        }
    }

    /// <summary>
    /// Removes what does not belong: leftovers of an interrupted sync (temporary snapshots and links), entries of
    /// <c>.worktrees</c> that are not snapshots, and replaced snapshots older than <c>--stale-worktree-timeout</c>.
    /// The snapshot of <paramref name="keepSha"/> and the published one are always kept.
    /// </summary>
    public int RemoveStale(string? keepSha)
    {
        var removed = 0;
        var published = CurrentRevision();
        var linkDirectory = Path.GetDirectoryName(options.LinkPath)!;
        var linkLeftovers = $"{TemporaryPrefix}{Path.GetFileName(options.LinkPath)}-";
        if (Directory.Exists(linkDirectory))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(linkDirectory, linkLeftovers + "*"))
            {
                LogRemovingLink(entry);
                DeleteQuietly(entry);
                removed++;
            }
        }
        if (!Directory.Exists(WorktreesDirectory))
        {
            PruneWorktreeEntries();
            return removed;
        }
        var now = timeProvider.GetUtcNow().UtcDateTime;
        foreach (var entry in Directory.EnumerateFileSystemEntries(WorktreesDirectory))
        {
            var name = Path.GetFileName(entry);
            if (name == keepSha || name == published)
            {
                continue;
            }
            var info = new DirectoryInfo(entry);
            var isSnapshot = SnapshotName().IsMatch(name) && info.Exists && !info.Attributes.HasFlag(FileAttributes.ReparsePoint);
            if (isSnapshot && now - info.LastWriteTimeUtc < options.StaleWorktreeTimeout)
            {
                continue;
            }
            LogRemoving(entry,
                isSnapshot ? "a replaced snapshot" : name.StartsWith(TemporaryPrefix, StringComparison.Ordinal) ? "left by an interrupted sync" : "not a snapshot");
            DeleteQuietly(entry);
            removed++;
        }
        PruneWorktreeEntries();
        return removed;
    }

    // As git-sync's "git worktree prune" after removing a worktree: ROOT/.git forgets the snapshots that are gone.
    private void PruneWorktreeEntries()
    {
        try
        {
            if (GitWorktree.Prune(GitDirectory) is > 0 and var pruned)
            {
                LogPruned(pruned, GitDirectory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotPruned(e, GitDirectory);
        }
    }

    /// <summary>The revisions that have a snapshot in <c>.worktrees</c>: after cleanup, the published one and those still kept.</summary>
    public IReadOnlyList<string> SnapshotRevisions() => Directory.Exists(WorktreesDirectory)
        ? Directory.EnumerateDirectories(WorktreesDirectory).Select(Path.GetFileName).OfType<string>().Where(name => SnapshotName().IsMatch(name)).ToList()
        : [];

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex SnapshotName();

    private void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path) && !new DirectoryInfo(path).Attributes.HasFlag(FileAttributes.ReparsePoint))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNotRemoved(e, path);
        }
    }

    // rename(2) itself: the swap must be one atomic call that replaces the old link, whatever it points at; .NET has no such call.
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string oldPath, string newPath);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} is not a worktree of {Revision} made by this sidecar; writing it again")]
    private partial void LogNotOurWorktree(string path, string revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published {Revision} at {Link} -> {Target}")]
    private partial void LogPublished(string revision, string link, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark {Revision} as replaced; it will be removed at the next cleanup")]
    private partial void LogNotMarked(Exception exception, string revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing {Path}: a link left by an interrupted publish")]
    private partial void LogRemovingLink(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing {Path}: {Reason}")]
    private partial void LogRemoving(string path, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Count} worktree entries of removed snapshots from {GitDirectory}")]
    private partial void LogPruned(int count, string gitDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not prune the worktree entries in {GitDirectory}; it will be tried again after the next sync")]
    private partial void LogNotPruned(Exception exception, string gitDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove {Path}; it will be tried again after the next sync")]
    private partial void LogNotRemoved(Exception exception, string path);
}
