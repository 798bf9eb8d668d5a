using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>
/// A fetch from a local repository (a path or <c>file://</c>) that honours <c>--depth</c>, as <c>git fetch --depth</c>
/// does over a local path. libgit2's local transport refuses shallow fetches ("shallow fetch is not supported by the
/// local transport"), so this opens the source repository itself, walks the commits within the depth, packs the
/// objects the store lacks (commits, their trees and blobs) with libgit2's pack builder, installs the pack, and
/// records the commits whose parents were left out in <c>.git/shallow</c>, the file git and libgit2 read to treat
/// history as cut there.
/// </summary>
public static class LocalFetch
{
    private const string TemporaryFolder = "sidecar-local-fetch";

    /// <summary>The folder a local <c>--repo</c> names.</summary>
    public static string SourcePath(string url) => url.StartsWith("file://", StringComparison.OrdinalIgnoreCase)
        ? new Uri(url).LocalPath
        : Path.GetFullPath(url);

    /// <summary>
    /// Copies <paramref name="sha"/> and, with <paramref name="depth"/> &gt; 0, its history to that depth (0: all of
    /// it) from <paramref name="url"/> into <paramref name="store"/>, and points <paramref name="targetRef"/> at it.
    /// Returns the number of objects copied.
    /// </summary>
    public static int Fetch(Repository store, string url, string sha, string targetRef, int depth, CancellationToken cancellationToken)
    {
        Repository source;
        try
        {
            source = new Repository(SourcePath(url));
        }
        catch (RepositoryNotFoundException e)
        {
            throw new SyncException($"--repo '{url}' is not a git repository ({e.Message}): check the path", e);
        }
        using (source)
        {
            var tip = source.Lookup<Commit>(sha)
                ?? throw new SyncException($"--ref {sha} is not a commit of the repository at '{url}': give a commit that exists there");
            var marksFile = Path.Combine(store.Info.Path, "shallow");
            var marks = ReadMarks(marksFile);
            var (commits, boundary, deepened) = CommitsToCopy(store, tip, depth, marks, cancellationToken);
            var copied = Pack(store, source, commits, cancellationToken);
            var newMarks = marks.Where(mark => !deepened.Contains(mark)).Concat(boundary).ToHashSet(StringComparer.Ordinal);
            if (!newMarks.SetEquals(marks))
            {
                WriteMarks(marksFile, newMarks);
            }
            store.Refs.Add(targetRef, tip.Id, allowOverwrite: true);
            return copied;
        }
    }

    /// <summary>
    /// The commits within <paramref name="depth"/> of <paramref name="tip"/> that the store lacks, breadth first as git
    /// counts depth; the walk stops at a commit the store has with its whole history. <c>Boundary</c>: commits at the
    /// depth limit that have parents (the new shallow marks). <c>Deepened</c>: marked commits whose parents were walked.
    /// </summary>
    private static (List<Commit> Commits, List<string> Boundary, HashSet<string> Deepened) CommitsToCopy(
        Repository store, Commit tip, int depth, HashSet<string> marks, CancellationToken cancellationToken)
    {
        var commits = new List<Commit>();
        var boundary = new List<string>();
        var deepened = new HashSet<string>(StringComparer.Ordinal);
        var seen = new HashSet<ObjectId> { tip.Id };
        var queue = new Queue<(Commit Commit, int Distance)>();
        queue.Enqueue((tip, 0));
        while (queue.TryDequeue(out var next))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (commit, distance) = next;
            var stored = store.ObjectDatabase.Contains(commit.Id);
            var marked = marks.Contains(commit.Sha);
            if (!stored)
            {
                commits.Add(commit);
            }
            if (depth > 0 && distance + 1 >= depth)
            {
                if (commit.Parents.Any())
                {
                    boundary.Add(commit.Sha);
                }
                continue;
            }
            if (stored && !marked)
            {
                // Its history is whole in the store already.
                continue;
            }
            if (marked)
            {
                deepened.Add(commit.Sha);
            }
            foreach (var parent in commit.Parents)
            {
                if (seen.Add(parent.Id))
                {
                    queue.Enqueue((parent, distance + 1));
                }
            }
        }
        return (commits, boundary, deepened);
    }

    // One pack of the commits and every tree and blob under them that the store lacks, moved into the store's pack folder.
    private static int Pack(Repository store, Repository source, List<Commit> commits, CancellationToken cancellationToken)
    {
        if (commits.Count == 0)
        {
            return 0;
        }
        var temporary = Path.Combine(store.Info.Path, TemporaryFolder);
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }
        Directory.CreateDirectory(temporary);
        try
        {
            var seen = new HashSet<ObjectId>();
            var results = source.ObjectDatabase.Pack(new PackBuilderOptions(temporary), builder =>
            {
                void AddTree(Tree tree)
                {
                    if (!seen.Add(tree.Id) || store.ObjectDatabase.Contains(tree.Id))
                    {
                        // A tree the store has comes with everything under it.
                        return;
                    }
                    builder.Add(tree);
                    foreach (var entry in tree)
                    {
                        if (entry.TargetType == TreeEntryTargetType.Tree)
                        {
                            AddTree((Tree)entry.Target);
                        }
                        else if (entry.TargetType == TreeEntryTargetType.Blob && seen.Add(entry.Target.Id) && !store.ObjectDatabase.Contains(entry.Target.Id))
                        {
                            builder.Add(entry.Target);
                        }
                    }
                }

                foreach (var commit in commits)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    builder.Add(commit);
                    AddTree(commit.Tree);
                }
            });

            var pack = Directory.EnumerateFiles(temporary, "pack-*.pack").SingleOrDefault();
            if (pack is null || !File.Exists(Path.ChangeExtension(pack, ".idx")))
            {
                throw new IOException($"the pack builder wrote {results.WrittenObjectsCount} objects but no pack and index into {temporary}");
            }
            var installed = Path.Combine(store.Info.Path, "objects", "pack", Path.GetFileName(pack));
            Directory.CreateDirectory(Path.GetDirectoryName(installed)!);
            // The pack first, then its index: libgit2 and git only use a pack once its index is there.
            File.Move(pack, installed, overwrite: true);
            File.Move(Path.ChangeExtension(pack, ".idx"), Path.ChangeExtension(installed, ".idx"), overwrite: true);
            return (int)results.WrittenObjectsCount;
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }

    private static HashSet<string> ReadMarks(string marks) => File.Exists(marks)
        ? File.ReadLines(marks).Select(line => line.Trim()).Where(line => line.Length > 0).ToHashSet(StringComparer.Ordinal)
        : new HashSet<string>(StringComparer.Ordinal);

    private static void WriteMarks(string marks, HashSet<string> shas)
    {
        if (shas.Count == 0)
        {
            File.Delete(marks);
            return;
        }
        var temporary = marks + ".sidecar";
        File.WriteAllLines(temporary, shas.Order(StringComparer.Ordinal));
        File.Move(temporary, marks, overwrite: true);
    }
}
