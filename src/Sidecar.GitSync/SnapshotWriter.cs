using LibGit2Sharp;

namespace Sidecar.GitSync;

/// <summary>
/// Writes the files of one commit into a folder, straight from the object store: no index, no
/// git worktree metadata, nothing a web server could leak.
/// </summary>
public sealed class SnapshotWriter(ILogger<SnapshotWriter> logger)
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>Writes every file of <paramref name="commit"/> under <paramref name="folder"/>, which must not exist yet.</summary>
    public SnapshotStatistics Write(Commit commit, string folder, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var statistics = new SnapshotStatistics();
        WriteTree(commit.Tree, folder, folder, statistics, cancellationToken);
        return statistics;
    }

    private void WriteTree(Tree tree, string folder, string snapshotRoot, SnapshotStatistics statistics, CancellationToken cancellationToken)
    {
        foreach (var entry in tree)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(folder, entry.Name);
            switch (entry.Mode)
            {
                case Mode.Directory:
                    Directory.CreateDirectory(path);
                    WriteTree((Tree)entry.Target, path, snapshotRoot, statistics, cancellationToken);
                    break;
                case Mode.NonExecutableFile or Mode.NonExecutableGroupWritableFile or Mode.ExecutableFile:
                    var blob = (Blob)entry.Target;
                    using (var source = blob.GetContentStream())
                    using (var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
                    {
                        source.CopyTo(target);
                    }
                    if (entry.Mode == Mode.ExecutableFile && !OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(path, Executable);
                    }
                    statistics.Files++;
                    statistics.Bytes += blob.Size;
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
}

/// <summary>What one snapshot holds.</summary>
public sealed class SnapshotStatistics
{
    public int Files { get; set; }
    public long Bytes { get; set; }
    public int Skipped { get; set; }
}
