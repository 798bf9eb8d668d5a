using System.Runtime.InteropServices;
using LibGit2Sharp;

namespace Sidecar.GitSync;

/// <summary>
/// Writes the files of one commit into a folder, straight from the object store: no index, no
/// git worktree metadata, nothing a web server could leak. A file whose blob and mode are the same
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
        WriteTree(commit.Tree, previous?.Tree, folder, previous?.Folder, folder, "",
            sparse is null ? null : new SparseFilter(sparse, FolderIncluded: false), statistics, cancellationToken);
        return statistics;
    }

    private void WriteTree(Tree tree, Tree? previousTree, string folder, string? previousFolder, string snapshotRoot,
        string relativeFolder, SparseFilter? sparse, SnapshotStatistics statistics, CancellationToken cancellationToken)
    {
        foreach (var entry in tree)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!options.PublishGitFiles && entry.Name.StartsWith(".git", StringComparison.Ordinal))
            {
                statistics.Skipped++;
                continue;
            }
            var relative = relativeFolder.Length == 0 ? entry.Name : relativeFolder + "/" + entry.Name;
            // git treats a submodule as a folder when it matches sparse patterns.
            var included = sparse is null || sparse.Patterns.Includes(relative, entry.Mode is Mode.Directory or Mode.GitLink, sparse.FolderIncluded);
            if (!included && entry.Mode != Mode.Directory)
            {
                statistics.Skipped++;
                continue;
            }
            var path = Path.Combine(folder, entry.Name);
            var before = previousTree?[entry.Name];
            var previousPath = previousFolder is null ? null : Path.Combine(previousFolder, entry.Name);
            switch (entry.Mode)
            {
                case Mode.Directory:
                    Directory.CreateDirectory(path);
                    // Below a folder left out, a file may still be taken in by a pattern of its own.
                    WriteTree((Tree)entry.Target, before?.Mode == Mode.Directory ? (Tree)before.Target : null, path,
                        before?.Mode == Mode.Directory ? previousPath : null, snapshotRoot, relative,
                        sparse is null ? null : sparse with { FolderIncluded = included }, statistics, cancellationToken);
                    if (sparse is not null && !Directory.EnumerateFileSystemEntries(path).Any())
                    {
                        // As git, a sparse snapshot has no folder that nothing was taken into.
                        Directory.Delete(path);
                    }
                    break;
                case Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile or Mode.ExecutableFile:
                    statistics.Files++;
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
                    WriteSymbolicLink((Blob)entry.Target, path, snapshotRoot, statistics);
                    break;
                default:
                    // Submodules (gitlinks) have no content in this repository's object store.
                    logger.LogInformation("Skipped {Path}: a submodule, which is not synced", Path.GetRelativePath(snapshotRoot, path));
                    statistics.Skipped++;
                    break;
            }
        }
    }

    private UnixFileMode ModeFor(bool executable)
    {
        var mode = ReadOnly | (executable ? Execute : 0);
        // --group-write is git's "shared repository": another user of the group may replace or remove files.
        return options.GroupWrite ? mode | UnixFileMode.UserWrite | UnixFileMode.GroupWrite : mode;
    }

    // A link in the repository is written only when it stays inside the snapshot.
    private void WriteSymbolicLink(Blob blob, string path, string snapshotRoot, SnapshotStatistics statistics)
    {
        var target = blob.GetContentText();
        var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
        var inside = !Path.IsPathRooted(target)
            && (resolved + Path.DirectorySeparatorChar).StartsWith(snapshotRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        if (!inside)
        {
            logger.LogWarning("Refused the symlink {Path} -> {Target}: it points outside the snapshot",
                Path.GetRelativePath(snapshotRoot, path), target);
            statistics.Skipped++;
            return;
        }
        File.CreateSymbolicLink(path, target);
        statistics.Files++;
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int link(string existingPath, string newPath);
}

/// <summary>The sparse-checkout patterns and the decision of the folder being written.</summary>
internal sealed record SparseFilter(SparseCheckoutPatterns Patterns, bool FolderIncluded);

/// <summary>The snapshot being replaced: its commit's tree and the folder that holds its files.</summary>
public sealed record PreviousSnapshot(Tree Tree, string Folder);

/// <summary>What one snapshot holds, and how much of it had to be written.</summary>
public sealed class SnapshotStatistics
{
    public int Files { get; set; }
    public int Skipped { get; set; }

    /// <summary>Files hard-linked to the previous snapshot, unchanged.</summary>
    public int Linked { get; set; }

    /// <summary>Files written from the object store.</summary>
    public int Written { get; set; }
    public long BytesWritten { get; set; }
}
