using LibGit2Sharp;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's worktree and root cases: cleanup, stale timeout, self-repair, and what a snapshot holds.</summary>
public sealed class WorktreeTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task StrayEntriesAndLeftoversOfACrashAreRemoved()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        Directory.CreateDirectory(bed.Root.Combine(".worktrees", "not_a_hash", "subdir"));
        await File.WriteAllTextAsync(bed.Root.Combine(".worktrees", "not_a_directory"), "");
        Directory.CreateDirectory(bed.Root.Combine(".worktrees", $".tmp-{first}-half"));
        File.CreateSymbolicLink(bed.Root.Combine(".tmp-current-crashed"), ".worktrees/" + first);
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));

        Assert.Equal(second, (await bed.SyncOnceAsync(bed.Options())).Revision);

        Assert.Equal([second], bed.Snapshots);
        Assert.False(File.Exists(bed.Root.Combine(".tmp-current-crashed")) || new FileInfo(bed.Root.Combine(".tmp-current-crashed")).LinkTarget is not null);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task AReplacedSnapshotIsKeptForTheStaleTimeoutThenRemoved()
    {
        var clock = new FakeClock();
        var stale = TimeSpan.FromMinutes(5);
        GitSyncOptions Options() => bed.Options(o => o.StaleWorktreeTimeout = stale);
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(Options(), clock);
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.SyncOnceAsync(Options(), clock);

        // Kept: a reader that resolved the old link a moment ago can finish.
        Assert.Equal(new[] { first, second }.Order(), bed.Snapshots.Order());
        clock.Advance(stale - TimeSpan.FromSeconds(1));
        await bed.SyncOnceAsync(Options(), clock);
        Assert.Equal(new[] { first, second }.Order(), bed.Snapshots.Order());
        clock.Advance(TimeSpan.FromSeconds(1));
        await bed.SyncOnceAsync(Options(), clock);
        Assert.Equal([second], bed.Snapshots);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task ADeletedSnapshotIsWrittenAgain()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        Directory.Delete(bed.Root.Combine(".worktrees", sha), recursive: true);

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task ALinkToAMissingFolderIsRepaired()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        Directory.CreateDirectory(bed.Root.Path);
        File.CreateSymbolicLink(bed.LinkPath, ".worktrees/" + new string('b', 40));

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(sha, result.Revision);
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
    }

    [Trait("Category", "InProcess")]
    [Theory]
    [InlineData("garbage-config")]
    [InlineData("no-objects")]
    [InlineData("empty-folder")]
    [InlineData("a-file")]
    public async Task ACorruptOrHalfWrittenObjectStoreIsCreatedAfresh(string damage)
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var git = bed.Root.Combine(".git");
        switch (damage)
        {
            case "garbage-config":
                File.WriteAllText(Path.Combine(git, "config"), "[[[ not a config");
                break;
            case "no-objects":
                Directory.Delete(Path.Combine(git, "objects"), recursive: true);
                break;
            case "empty-folder":
                Directory.Delete(git, recursive: true);
                Directory.CreateDirectory(git);
                break;
            case "a-file":
                Directory.Delete(git, recursive: true);
                File.WriteAllText(git, "gitdir: /nowhere");
                break;
        }
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(second, result.Revision);
        Assert.True(Repository.IsValid(git));
        Assert.Equal([second], bed.Snapshots);
        Assert.NotEqual(first, second);
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task UnchangedFilesAreHardLinkedKeepingInodeAndTime()
    {
        var first = await bed.Repository.CommitAsync("one", ("same.html", "same"), ("css/same.css", "body{}"), ("changed.html", "v1"));
        await bed.SyncOnceAsync(bed.Options());
        var before = Stat(Path.Combine(bed.LinkPath, "css", "same.css"));
        var beforeTime = File.GetLastWriteTimeUtc(Path.Combine(bed.LinkPath, "same.html"));
        await Task.Delay(20);
        var second = await bed.Repository.CommitAsync("two", ("changed.html", "v2"));

        await bed.SyncOnceAsync(bed.Options(o => o.StaleWorktreeTimeout = TimeSpan.FromMinutes(1)));

        var reused = Path.Combine(bed.Root.Combine(".worktrees", second), "css", "same.css");
        Assert.Equal(before, Stat(reused));
        Assert.Equal(beforeTime, File.GetLastWriteTimeUtc(Path.Combine(bed.LinkPath, "same.html")));
        Assert.NotEqual(Stat(Path.Combine(bed.Root.Combine(".worktrees", first), "changed.html")), Stat(Path.Combine(bed.LinkPath, "changed.html")));
        Assert.Equal("v1", await File.ReadAllTextAsync(Path.Combine(bed.Root.Combine(".worktrees", first), "changed.html")));
        Assert.Equal("v2", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "changed.html")));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task SnapshotFilesAreReadOnly()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        await bed.SyncOnceAsync(bed.Options());

        var mode = File.GetUnixFileMode(Path.Combine(bed.LinkPath, "index.html"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead, mode);
    }

    [Trait("Category", "Process")]
    [Fact]
    public async Task GroupWriteMakesTheStoreSnapshotsAndFilesGroupWritable()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        // A process of its own: --group-write sets the process's umask.
        var (exitCode, output) = await SidecarProcess.RunAsync(
            ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--one-time", "--group-write"]);

        Assert.True(exitCode == 0, output);
        Assert.True(File.GetUnixFileMode(Path.Combine(bed.LinkPath, "index.html")).HasFlag(UnixFileMode.GroupWrite));
        Assert.True(File.GetUnixFileMode(bed.Root.Combine(".worktrees")).HasFlag(UnixFileMode.GroupWrite));
        Assert.True(File.GetUnixFileMode(bed.Root.Combine(".git", "objects")).HasFlag(UnixFileMode.GroupWrite));
    }

    [Trait("Category", "InProcess")]
    [Fact]
    public async Task GitFilesArePublishedOnlyWhenAsked()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"), (".gitignore", "*.tmp"), (".gitattributes", "* text"));

        await bed.SyncOnceAsync(bed.Options());
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, ".gitignore")));
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, ".gitattributes")));

        Directory.Delete(bed.Root.Path, recursive: true);
        await bed.SyncOnceAsync(bed.Options(o => o.PublishGitFiles = true));
        Assert.Equal("*.tmp", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, ".gitignore")));
    }

    // The inode number, as stat(1) reports it.
    private static long Stat(string path)
    {
        var output = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = output.StandardOutput.ReadToEnd();
        output.WaitForExit();
        return long.Parse(text.Trim());
    }
}
