using System.Runtime.InteropServices;
using LibGit2Sharp;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Snapshots;

/// <summary>
/// Writes the files of one commit into a folder, straight from the object store, and lists its paths
/// for the git index <see cref="GitWorktree"/> writes beside it. A file whose blob and mode are the same
/// as at the same path in the previous snapshot is hard-linked to it instead of written, so it keeps
/// its inode and modification time. Files are left read-only: a published snapshot never changes.
/// </summary>
public sealed partial class SnapshotWriter(GitSyncOptions options, ILogger<SnapshotWriter> logger)
{
    private const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>
    /// Writes every file of <paramref name="commit"/> under <paramref name="folder"/>, which must not exist yet,
    /// reusing files of <paramref name="previous"/> (a commit and the snapshot folder that holds it) where they are the same.
    /// </summary>
    public SnapshotStatistics Write(Commit commit, string folder, PreviousSnapshot? previous, CancellationToken cancellationToken)
    {
        // Read for every new snapshot, as git-sync applies it to every new worktree: an edit takes effect with the next commit.
        var sparse = options.SparseCheckoutFile.Length > 0 ? SparseCheckoutPatterns.Load(options.SparseCheckoutFile) : null;
        Directory.CreateDirectory(folder);
        var statistics = new SnapshotStatistics();
        using var submodules = options.Submodules == SubmoduleMode.Off ? null : new SubmoduleStores(options, logger);
        var walk = new Walk(folder, statistics, submodules, cancellationToken, statistics.Index);
        var superproject = new SubmoduleParent(commit.Tree, options.Repo, Path.Combine(Path.GetFullPath(options.Root), ".git", "modules"), 0, "");
        WriteTree(commit.Tree, previous?.Tree, folder, previous?.Folder, "",
            sparse is null ? null : new SparseFilter(sparse, FolderIncluded: false), superproject, walk);
        return statistics;
    }

    private void WriteTree(Tree tree, Tree? previousTree, string folder, string? previousFolder,
        string relativeFolder, SparseFilter? sparse, SubmoduleParent parent, Walk walk)
    {
        var (snapshotRoot, statistics, cancellationToken) = (walk.SnapshotRoot, walk.Statistics, walk.CancellationToken);
        // One pass over the previous folder: a lookup by name (tree[name]) would look the tree up again for each entry.
        var previousEntries = previousTree?.ToDictionary(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in tree)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = relativeFolder.Length == 0 ? entry.Name : relativeFolder + "/" + entry.Name;
            if (!options.PublishGitFiles && entry.Name.StartsWith(".git", StringComparison.Ordinal))
            {
                statistics.Skipped++;
                LeaveOut(entry, relative, walk);
                continue;
            }
            // git treats a submodule as a folder when it matches sparse patterns.
            var included = sparse is null || sparse.Patterns.Includes(relative, entry.Mode is Mode.Directory or Mode.GitLink, sparse.FolderIncluded);
            if (!included && entry.Mode != Mode.Directory)
            {
                statistics.Skipped++;
                LeaveOut(entry, relative, walk);
                continue;
            }
            var path = Path.Combine(folder, entry.Name);
            var before = previousEntries?.GetValueOrDefault(entry.Name);
            var previousPath = previousFolder is null ? null : Path.Combine(previousFolder, entry.Name);
            switch (entry.Mode)
            {
                case Mode.Directory:
                    Directory.CreateDirectory(path);
                    // Below a folder left out, a file may still be taken in by a pattern of its own.
                    WriteTree((Tree)entry.Target, before?.Mode == Mode.Directory ? (Tree)before.Target : null, path,
                        before?.Mode == Mode.Directory ? previousPath : null, relative,
                        sparse is null ? null : sparse with { FolderIncluded = included }, parent, walk);
                    if (sparse is not null && !Directory.EnumerateFileSystemEntries(path).Any())
                    {
                        // As git, a sparse snapshot has no folder that nothing was taken into.
                        Directory.Delete(path);
                    }
                    break;
                case Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile or Mode.ExecutableFile:
                    statistics.Files++;
                    walk.Index?.Add(new WorktreeIndexEntry(relative, GitWorktree.IndexMode(entry.Mode), entry.Target.Id, LeftOut: false));
                    // Compare ids only: reading a blob (even its size) inflates it from the pack, the cost this reuse avoids.
                    if (before is not null && before.Mode == entry.Mode && before.Target.Id == entry.Target.Id && previousPath is not null
                        && link(previousPath, path) == 0)
                    {
                        statistics.Linked++;
                        break;
                    }
                    var blob = (Blob)entry.Target;
                    using (var source = blob.GetContentStream())
                    using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
                    {
                        source.CopyTo(target);
                        statistics.BytesWritten += target.Length;
                    }
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(path, ModeFor(entry.Mode == Mode.ExecutableFile));
                    }
                    statistics.Written++;
                    break;
                case Mode.SymbolicLink:
                    var linked = WriteSymbolicLink((Blob)entry.Target, path, snapshotRoot, statistics);
                    walk.Index?.Add(new WorktreeIndexEntry(relative, GitWorktree.IndexMode(entry.Mode), entry.Target.Id, LeftOut: !linked));
                    break;
                case Mode.GitLink:
                    // As git, a submodule that is not checked out is an empty folder.
                    Directory.CreateDirectory(path);
                    walk.Index?.Add(new WorktreeIndexEntry(relative, GitWorktree.GitLinkMode, entry.Target.Id, LeftOut: false));
                    WriteSubmodule(entry, before, path, previousPath, relative, parent, walk);
                    break;
                default:
                    LogSkipped(Path.GetRelativePath(snapshotRoot, path), entry.Mode);
                    statistics.Skipped++;
                    break;
            }
        }
    }

    // The submodule's commit comes from its own object store; --submodules=shallow checks out the first level only.
    private void WriteSubmodule(TreeEntry entry, TreeEntry? before, string path, string? previousPath, string relative,
        SubmoduleParent parent, Walk walk)
    {
        if (walk.Submodules is null || (options.Submodules == SubmoduleMode.Shallow && parent.Level > 0))
        {
            LogSubmoduleLeftEmpty(Path.GetRelativePath(walk.SnapshotRoot, path), options.Submodules.ToString().ToLowerInvariant());
            return;
        }
        var checkout = walk.Submodules.Checkout(parent, relative, entry.Target.Id, walk.CancellationToken);
        var previousTree = before?.Mode == Mode.GitLink && previousPath is not null
            ? checkout.Repository.Lookup<Commit>(before.Target.Id)?.Tree
            : null;
        walk.Statistics.Submodules++;
        // Sparse patterns are the superproject's: a submodule is written whole, as git does.
        // The submodule's files belong to its own index, not the superproject's.
        WriteTree(checkout.Commit.Tree, previousTree, path, previousTree is null ? null : previousPath, "", null, checkout.AsParent, walk with { Index = null });
    }

    // In the index as skip-worktree: every file of a folder left out, so git status sees the snapshot as the commit.
    private static void LeaveOut(TreeEntry entry, string relative, Walk walk)
    {
        if (walk.Index is not { } index)
        {
            return;
        }
        if (entry.Mode == Mode.Directory)
        {
            foreach (var child in (Tree)entry.Target)
            {
                LeaveOut(child, relative + "/" + child.Name, walk);
            }
        }
        else if (entry.Mode is Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile or Mode.ExecutableFile or Mode.SymbolicLink or Mode.GitLink)
        {
            index.Add(new WorktreeIndexEntry(relative, GitWorktree.IndexMode(entry.Mode), entry.Target.Id, LeftOut: true));
        }
    }

    private UnixFileMode ModeFor(bool executable)
    {
        var mode = ReadOnly | (executable ? Execute : 0);
        // --group-write is git's "shared repository": another user of the group may replace or remove files.
        return options.GroupWrite ? mode | UnixFileMode.UserWrite | UnixFileMode.GroupWrite : mode;
    }

    // A link in the repository is written only when it stays inside the snapshot.
    private bool WriteSymbolicLink(Blob blob, string path, string snapshotRoot, SnapshotStatistics statistics)
    {
        var target = blob.GetContentText();
        var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
        var inside = !Path.IsPathRooted(target)
            && (resolved + Path.DirectorySeparatorChar).StartsWith(snapshotRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (!inside)
        {
            LogSymlinkRefused(Path.GetRelativePath(snapshotRoot, path), target);
            statistics.Skipped++;
            return false;
        }
        File.CreateSymbolicLink(path, target);
        statistics.Files++;
        return true;
    }

    // .NET creates symbolic links only (File.CreateSymbolicLink); a hard link needs link(2).
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existingPath, string newPath);

    [LoggerMessage(Level = LogLevel.Information, Message = "Skipped {Path}: an entry of mode {Mode}")]
    private partial void LogSkipped(string path, Mode mode);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Left the submodule at {Path} empty (--submodules={Mode})")]
    private partial void LogSubmoduleLeftEmpty(string path, string mode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused the symlink {Path} -> {Target}: it points outside the snapshot")]
    private partial void LogSymlinkRefused(string path, string target);
}

/// <summary>What stays the same across one snapshot's folders and submodules.</summary>
internal sealed record Walk(string SnapshotRoot, SnapshotStatistics Statistics, SubmoduleStores? Submodules, CancellationToken CancellationToken,
    List<WorktreeIndexEntry>? Index);

/// <summary>The sparse-checkout patterns and the decision of the folder being written.</summary>
internal sealed record SparseFilter(SparseCheckoutPatterns Patterns, bool FolderIncluded);

/// <summary>The snapshot being replaced: its commit's tree and the folder that holds its files.</summary>
public sealed record PreviousSnapshot(Tree Tree, string Folder);

/// <summary>What one snapshot holds, and how much of it had to be written.</summary>
public sealed class SnapshotStatistics
{
    public int Files { get; set; }
    public int Skipped { get; set; }

    /// <summary>Submodules checked out into the snapshot, at every level.</summary>
    public int Submodules { get; set; }

    /// <summary>Files hard-linked to the previous snapshot, unchanged.</summary>
    public int Linked { get; set; }

    /// <summary>Files written from the object store.</summary>
    public int Written { get; set; }
    public long BytesWritten { get; set; }

    /// <summary>The superproject's paths, for the snapshot's git index.</summary>
    public List<WorktreeIndexEntry> Index { get; } = [];
}
