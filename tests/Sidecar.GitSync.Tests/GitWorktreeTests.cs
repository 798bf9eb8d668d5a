using Sidecar.DemoOrigin;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// Snapshots are git worktrees of ROOT/.git, as git-sync's are: git works inside them (test_e2e.sh's exechook with
/// git archive, the depth tests' git log), git worktree list shows them, and removal prunes their entries; an existing
/// folder at a snapshot's path is checked before it is published (test_e2e.sh's worktree_cleanup).
/// </summary>
[Trait("Category", "InProcess")]
public sealed class GitWorktreeTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task GitInsideTheLinkSeesTheSnapshotsCommit()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"), ("css/site.css", "body{}"));

        await bed.SyncOnceAsync(bed.Options(o => o.Depth = 0));

        Assert.Equal(second, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.Equal($"{second}\n{first}", await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
        Assert.Equal("two", await GitCli.RunAsync(bed.LinkPath, "show", "HEAD:index.html"));
    }

    [Fact]
    public async Task GitArchiveInsideTheLinkHoldsTheWholeCommit()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"), (".gitignore", "*.tmp"), ("css/site.css", "body{}"));
        await bed.SyncOnceAsync(bed.Options());
        var archive = bed.Root.Combine("archive.tar");

        await GitCli.RunAsync(bed.LinkPath, "archive", "--output", archive, "HEAD");

        var listed = await Run("tar", "-tf", archive);
        Assert.Equal([".gitignore", "css/", "css/site.css", "index.html"], listed.Split('\n').Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GitWorktreeListShowsEachSnapshotAtItsCommit()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.SyncOnceAsync(bed.Options(o => o.StaleWorktreeTimeout = TimeSpan.FromMinutes(5)));

        var listed = await GitCli.RunAsync(bed.Root.Path, "--git-dir", bed.Root.Combine(".git"), "worktree", "list", "--porcelain");

        Assert.Contains($"worktree {bed.Root.Combine(".worktrees", first)}\nHEAD {first}\ndetached", listed);
        Assert.Contains($"worktree {bed.Root.Combine(".worktrees", second)}\nHEAD {second}\ndetached", listed);
        Assert.DoesNotContain("prunable", listed);
    }

    [Fact]
    public async Task GitStatusIsCleanThoughGitFilesAreLeftOut()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"), (".gitignore", "*.tmp"), (".github/workflows/ci.yml", "on: push"));

        await bed.SyncOnceAsync(bed.Options());

        Assert.False(File.Exists(Path.Combine(bed.LinkPath, ".gitignore")));
        Assert.Equal("", await GitCli.RunAsync(bed.LinkPath, "status", "--porcelain"));
        // Left out as git's sparse checkout leaves files out: skip-worktree ("S"), the others cached ("H").
        var tags = await GitCli.RunAsync(bed.LinkPath, "ls-files", "-t");
        Assert.Equal(["H index.html", "S .github/workflows/ci.yml", "S .gitignore"], tags.Split('\n').Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GitStatusIsCleanInASparseSnapshot()
    {
        await bed.Repository.CommitAsync("one", ("docs/index.html", "docs"), ("src/main.c", "int main;"), ("README", "read me"));
        var patterns = bed.Root.Combine("..", $"sparse-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(patterns, "/docs/\n");
        try
        {
            await bed.SyncOnceAsync(bed.Options(o => o.SparseCheckoutFile = patterns));

            Assert.False(File.Exists(Path.Combine(bed.LinkPath, "src", "main.c")));
            Assert.Equal("", await GitCli.RunAsync(bed.LinkPath, "status", "--porcelain"));
            var tags = await GitCli.RunAsync(bed.LinkPath, "ls-files", "-t");
            Assert.Equal(["H docs/index.html", "S README", "S src/main.c"], tags.Split('\n').Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(patterns);
        }
    }

    [Fact]
    public async Task GitStatusIsCleanInASnapshotOfHardLinkedFiles()
    {
        await bed.Repository.CommitAsync("one", ("same.html", "same"), ("changed.html", "v1"));
        await bed.SyncOnceAsync(bed.Options());
        var second = await bed.Repository.CommitAsync("two", ("changed.html", "v2"));

        await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(second, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.Equal("", await GitCli.RunAsync(bed.LinkPath, "status", "--porcelain"));
    }

    [Fact]
    public async Task TheRootPassesGitFsck()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.SyncOnceAsync(bed.Options(o => o.StaleWorktreeTimeout = TimeSpan.FromMinutes(5)));

        // fsck also checks each worktree's HEAD and index against the store.
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", bed.Root.Combine(".git"), "fsck", "--no-progress");
    }

    [Fact]
    public async Task ARemovedSnapshotLeavesNoWorktreeEntry()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));

        await bed.SyncOnceAsync(bed.Options(o => o.StaleWorktreeTimeout = TimeSpan.Zero));

        Assert.Equal([second], bed.Snapshots);
        Assert.Equal([second], Directory.GetDirectories(bed.Root.Combine(".git", "worktrees")).Select(Path.GetFileName));
        // Nothing is left for git's own prune to do.
        Assert.Equal("", await GitCli.RunAsync(bed.Root.Path, "--git-dir", bed.Root.Combine(".git"), "worktree", "prune", "--dry-run", "--verbose"));
        Assert.DoesNotContain(first, await GitCli.RunAsync(bed.Root.Path, "--git-dir", bed.Root.Combine(".git"), "worktree", "list"));
    }

    [Fact]
    public async Task AWorktreeEntryWhoseSnapshotIsGoneIsPruned()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var orphan = bed.Root.Combine(".git", "worktrees", new string('c', 40));
        Directory.CreateDirectory(orphan);
        await File.WriteAllTextAsync(Path.Combine(orphan, "gitdir"), bed.Root.Combine(".worktrees", new string('c', 40), ".git") + "\n");
        await bed.Repository.CommitAsync("two", ("index.html", "two"));

        await bed.SyncOnceAsync(bed.Options());

        Assert.False(Directory.Exists(orphan));
    }

    [Fact]
    public async Task AFolderAtTheSnapshotsPathThatTheSidecarDidNotMakeIsWrittenAgainBeforePublishing()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        // test_e2e.sh's worktree_cleanup: a folder named for the commit, holding something else.
        Directory.CreateDirectory(bed.Root.Combine(".worktrees", sha));
        await File.WriteAllTextAsync(bed.Root.Combine(".worktrees", sha, "junk"), "");

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, "junk")));
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal(sha, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.DoesNotContain(bed.Snapshots, name => name.StartsWith(".tmp-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APublishedSnapshotThatLostItsWorktreeEntryIsWrittenAgain()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        Directory.Delete(bed.Root.Combine(".git", "worktrees", sha), recursive: true);

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(sha, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.Equal("", await GitCli.RunAsync(bed.LinkPath, "status", "--porcelain"));
    }

    [Fact]
    public async Task APublishedSnapshotReplacedByAnotherFolderIsWrittenAgain()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var folder = bed.Root.Combine(".worktrees", sha);
        await Run("chmod", "-R", "u+w", folder);
        Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "junk"), "");

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(["index.html"], Directory.GetFiles(bed.LinkPath).Select(Path.GetFileName).Where(n => n != ".git"));
        Assert.Equal(sha, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
    }

    [Fact]
    public async Task AnIntactPublishedSnapshotIsLeftAsItIs()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var written = File.GetLastWriteTimeUtc(bed.Root.Combine(".worktrees", sha, "index.html"));

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Noop, result.Outcome);
        Assert.Equal(written, File.GetLastWriteTimeUtc(bed.Root.Combine(".worktrees", sha, "index.html")));
    }

    private static async Task<string> Run(string program, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} failed: {await process.StandardError.ReadToEndAsync()}");
        return output.Trim();
    }
}
