using LibGit2Sharp;

namespace Sidecar.GitSync.Git;

/// <summary>What <c>--git-gc</c> asks for after each cleanup, as git-sync runs <c>git gc</c> with these modes.</summary>
public enum GitGcMode
{
    /// <summary>Repack only when the store crosses git's <c>gc --auto</c> thresholds.</summary>
    Auto,

    /// <summary>Repack after every cleanup.</summary>
    Always,

    /// <summary>The same as <see cref="Always"/>: libgit2's pack builder has no delta window or depth to raise.</summary>
    Aggressive,

    /// <summary>Never repack.</summary>
    Off,
}

/// <summary>What one repack did.</summary>
public sealed record GcResult(int Objects, int PacksRemoved, int LooseRemoved, TimeSpan Duration);

/// <summary>
/// <c>git gc</c> with libgit2, which has none: writes one pack of the objects reachable from the revisions that
/// must be kept (their history too, down to the shallow boundary), installs it, then deletes the packs and loose
/// objects it replaces. The new pack is complete in <c>objects/pack</c> before anything is deleted, so a crash at
/// any point leaves a readable store; leftovers of an interrupted run are removed by the next one.
/// </summary>
public static class GitGarbageCollector
{
    /// <summary>git's <c>gc.autoPackLimit</c>: more packs than this makes <c>gc --auto</c> repack.</summary>
    public const int DefaultAutoPackLimit = 50;

    /// <summary>git's <c>gc.auto</c>: about this many loose objects makes <c>gc --auto</c> repack.</summary>
    public const int DefaultAutoLooseObjects = 6700;

    private const string TemporaryFolder = "sidecar-gc.tmp";

    /// <summary>
    /// True when <c>git gc --auto</c> would repack: more than <paramref name="packLimit"/> packs, or more loose objects
    /// than <paramref name="looseLimit"/> as git estimates them, from <c>objects/17</c> (1/256 of the ids fall there).
    /// </summary>
    public static bool NeedsAuto(string gitDirectory, int packLimit, int looseLimit)
    {
        var objects = Path.Combine(gitDirectory, "objects");
        var packs = Directory.Exists(Path.Combine(objects, "pack"))
            ? Directory.EnumerateFiles(Path.Combine(objects, "pack"), "pack-*.idx").Count(idx => !File.Exists(Path.ChangeExtension(idx, ".keep")))
            : 0;
        if (packLimit > 0 && packs > packLimit)
        {
            return true;
        }
        var perFolder = (looseLimit + 255) / 256;
        var sample = Path.Combine(objects, "17");
        return looseLimit > 0 && Directory.Exists(sample)
            && Directory.EnumerateFiles(sample).Count(f => IsLooseObjectName(Path.GetFileName(f))) > perFolder;
    }

    /// <summary>
    /// Repacks the store at <paramref name="gitDirectory"/>, keeping what is reachable from <paramref name="keep"/>
    /// (commit SHAs; those the store lacks are skipped) and from every ref; the duration is measured on <paramref name="timeProvider"/>.
    /// </summary>
    public static GcResult Collect(string gitDirectory, IEnumerable<string> keep, TimeProvider timeProvider)
    {
        var started = timeProvider.GetTimestamp();
        var objects = Path.Combine(gitDirectory, "objects");
        var packDirectory = Path.Combine(objects, "pack");
        var temporary = Path.Combine(gitDirectory, TemporaryFolder);
        Directory.CreateDirectory(packDirectory);
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }
        Directory.CreateDirectory(temporary);

        // Listed before packing: everything in them is either packed again or no longer reachable.
        var oldPacks = Directory.EnumerateFiles(packDirectory, "pack-*.pack")
            .Where(pack => !File.Exists(Path.ChangeExtension(pack, ".keep")))
            .ToList();
        var oldLoose = LooseObjects(objects).ToList();

        int written;
        HashSet<string> kept;
        using (var repository = new Repository(gitDirectory))
        {
            var roots = new List<Commit>();
            var tags = new List<TagAnnotation>();
            foreach (var sha in keep.Distinct())
            {
                if (repository.Lookup<Commit>(sha) is { } commit)
                {
                    roots.Add(commit);
                }
            }
            foreach (var reference in repository.Refs)
            {
                var target = reference.ResolveToDirectReference()?.Target;
                while (target is TagAnnotation tag)
                {
                    tags.Add(tag);
                    target = tag.Target;
                }
                if (target is Commit commit)
                {
                    roots.Add(commit);
                }
            }
            // libgit2's walk honours .git/shallow: history stops at the shallow boundary, as fetched.
            var commits = roots.Count == 0
                ? []
                : repository.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = roots.Distinct().ToList(), SortBy = CommitSortStrategies.None }).ToList();
            kept = commits.Select(c => c.Sha).ToHashSet(StringComparer.Ordinal);
            var results = repository.ObjectDatabase.Pack(new PackBuilderOptions(temporary), builder =>
            {
                foreach (var tag in tags.Distinct())
                {
                    builder.Add(tag);
                }
                foreach (var commit in commits)
                {
                    // A commit brings its tree and everything under it, not its parents: the walk gave those.
                    builder.AddRecursively(commit);
                }
            });
            written = (int)results.WrittenObjectsCount;
        }

        var newPack = Directory.EnumerateFiles(temporary, "pack-*.pack").SingleOrDefault();
        var newIndex = newPack is null ? null : Path.ChangeExtension(newPack, ".idx");
        string? installed = null;
        if (newPack is not null && File.Exists(newIndex))
        {
            // The pack first, then its index: libgit2 and git only use a pack once its index is there.
            installed = Path.Combine(packDirectory, Path.GetFileName(newPack));
            File.Move(newPack, installed, overwrite: true);
            File.Move(newIndex, Path.ChangeExtension(installed, ".idx"), overwrite: true);
        }
        else if (written > 0)
        {
            throw new IOException($"the pack builder wrote {written} objects but no pack and index into {temporary}");
        }

        var packsRemoved = 0;
        foreach (var pack in oldPacks.Where(p => p != installed))
        {
            // The index first, so a crash leaves an unused pack file, never an index without its pack.
            foreach (var extension in new[] { ".idx", ".rev", ".bitmap", ".mtimes", ".pack" })
            {
                File.Delete(Path.ChangeExtension(pack, extension));
            }
            packsRemoved++;
        }
        var looseRemoved = 0;
        foreach (var loose in oldLoose)
        {
            File.Delete(loose);
            looseRemoved++;
        }
        foreach (var folder in oldLoose.Select(Path.GetDirectoryName).Distinct())
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder!).Any())
            {
                Directory.Delete(folder!);
            }
        }
        PruneShallow(gitDirectory, kept);
        Directory.Delete(temporary, recursive: true);
        return new GcResult(written, packsRemoved, looseRemoved, timeProvider.GetElapsedTime(started));
    }

    // As git prune does: the shallow list keeps only commits that are still in the store.
    /// <summary>
    /// Repacks the submodule stores under <c>GITDIR/modules</c> (<see cref="SubmoduleStores"/>), each keeping the commits
    /// that <paramref name="keep"/>'s trees point at by gitlink (any path: a superset, since the store of each submodule
    /// skips ids it lacks) and its refs; then the stores nested in each, from the commits kept there. A store is
    /// repacked when <paramref name="needed"/> says so (the auto thresholds, or always).
    /// </summary>
    public static IReadOnlyList<(string Store, GcResult Result)> CollectSubmodules(string gitDirectory, IEnumerable<string> keep, Func<string, bool> needed, TimeProvider timeProvider)
    {
        var done = new List<(string, GcResult)>();
        var modules = Path.Combine(gitDirectory, "modules");
        if (!Directory.Exists(modules))
        {
            return done;
        }
        // The trees are walked only when a store is to be repacked or has stores of its own.
        List<string>? links = null;
        foreach (var store in Stores(modules).ToList())
        {
            if (needed(store))
            {
                links ??= GitLinks(gitDirectory, keep);
                done.Add((store, Collect(store, links, timeProvider)));
            }
            if (Directory.Exists(Path.Combine(store, "modules")))
            {
                links ??= GitLinks(gitDirectory, keep);
                done.AddRange(CollectSubmodules(store, links, needed, timeProvider));
            }
        }
        return done;
    }

    // The ids of the submodule commits that the trees of the given commits name, at any depth.
    private static List<string> GitLinks(string gitDirectory, IEnumerable<string> commits)
    {
        var links = new HashSet<string>(StringComparer.Ordinal);
        using var repository = new Repository(gitDirectory);
        var seenTrees = new HashSet<ObjectId>();
        foreach (var sha in commits.Distinct())
        {
            if (repository.Lookup<Commit>(sha) is { } commit)
            {
                AddGitLinks(commit.Tree, links, seenTrees);
            }
        }
        return [.. links];
    }

    private static void AddGitLinks(Tree tree, HashSet<string> links, HashSet<ObjectId> seenTrees)
    {
        if (!seenTrees.Add(tree.Id))
        {
            return;
        }
        foreach (var entry in tree)
        {
            switch (entry.TargetType)
            {
                case TreeEntryTargetType.GitLink:
                    links.Add(entry.Target.Sha);
                    break;
                case TreeEntryTargetType.Tree:
                    AddGitLinks((Tree)entry.Target, links, seenTrees);
                    break;
            }
        }
    }

    // The stores directly under a modules folder: a submodule name may hold slashes, so a store can sit deeper than
    // one level; a store is a folder with objects/ and HEAD, and what nests in it is under its own modules/.
    private static IEnumerable<string> Stores(string modules)
    {
        foreach (var folder in Directory.EnumerateDirectories(modules))
        {
            if (Directory.Exists(Path.Combine(folder, "objects")) && File.Exists(Path.Combine(folder, "HEAD")))
            {
                yield return folder;
            }
            else
            {
                foreach (var store in Stores(folder))
                {
                    yield return store;
                }
            }
        }
    }

    private static void PruneShallow(string gitDirectory, HashSet<string> kept)
    {
        var shallow = Path.Combine(gitDirectory, "shallow");
        if (!File.Exists(shallow))
        {
            return;
        }
        var lines = File.ReadAllLines(shallow);
        var remaining = lines.Where(line => kept.Contains(line.Trim())).ToArray();
        if (remaining.Length == lines.Length)
        {
            return;
        }
        if (remaining.Length == 0)
        {
            // Every kept commit has its whole history: the store is no longer shallow.
            File.Delete(shallow);
            return;
        }
        // Written aside and renamed over, so a crash leaves the old list or the new one.
        var replacement = shallow + ".sidecar-gc";
        File.WriteAllLines(replacement, remaining);
        File.Move(replacement, shallow, overwrite: true);
    }

    private static IEnumerable<string> LooseObjects(string objects) =>
        Directory.EnumerateDirectories(objects, "??")
            .Where(folder => Uri.IsHexDigit(Path.GetFileName(folder)[0]) && Uri.IsHexDigit(Path.GetFileName(folder)[1]))
            .SelectMany(folder => Directory.EnumerateFiles(folder))
            .Where(file => IsLooseObjectName(Path.GetFileName(file)));

    private static bool IsLooseObjectName(string name) => name.Length == 38 && name.All(Uri.IsHexDigit);
}
