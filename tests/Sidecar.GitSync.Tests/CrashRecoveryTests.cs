using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// test_e2e.sh's crash cases, harder: the real process is killed with SIGKILL at random points of its syncs,
/// again and again. After every kill the link points at a complete snapshot, and a restart syncs the newest commit.
/// </summary>
[Trait("Category", "Process")]
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    private const int Kills = 20;
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task KilledHardAtRandomPointsTheLinkAlwaysPointsAtACompleteSnapshot()
    {
        // Enough files that a kill often lands inside the snapshot writing.
        var files = Enumerable.Range(0, 300).Select(i => ($"pages/{i % 10}/page{i}.html", (string?)$"page {i} v0")).ToArray();
        await bed.Repository.CommitAsync("seed", [.. files, ("version.txt", "0")]);
        var random = new Random(1234);
        var expected = new Dictionary<string, string>();
        for (var kill = 1; kill <= Kills; kill++)
        {
            var changed = random.Next(300);
            var sha = await bed.Repository.CommitAsync($"v{kill}", ($"pages/{changed % 10}/page{changed}.html", $"page {changed} v{kill}"), ("version.txt", kill.ToString()));
            expected[sha] = kill.ToString();
            using var sidecar = SidecarProcess.Start(
                ["--repo", bed.Repository.Url, "--root", bed.Root.Path, "--link", "current", "--period", "10ms", "--max-failures", "-1"]);
            await Task.Delay(random.Next(150, 900));
            sidecar.KillHard();

            AssertCompleteSnapshotOrNone(expected);
        }

        var last = await bed.Repository.CommitAsync("final", ("version.txt", "final"));
        var result = await bed.SyncOnceAsync(bed.Options());
        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(last, result.Revision);
        Assert.Equal("final", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "version.txt")));
        // 301 files and the worktree's .git file.
        Assert.Equal(302, Directory.GetFiles(bed.LinkPath, "*", SearchOption.AllDirectories).Length);
        // Leftovers of the kills are gone after one good sync.
        Assert.Equal([last], bed.Snapshots);
    }

    [Fact]
    public async Task AStoreACrashLeftWithAnUnmarkedShallowCommitIsRepaired()
    {
        // What a kill inside libgit2's fetch once left (found by the test above): .git/shallow rewritten for the
        // new tip while a ref still points at an older commit whose parent was never fetched. No repack, so the older commit stays.
        static void NoGc(GitSyncOptions o) => o.GitGc = GitGcMode.Off;
        await bed.Repository.CommitAsync("seed", ("index.html", "seed"));
        await bed.Repository.CommitAsync("a", ("index.html", "a"));
        var older = (await bed.SyncOnceAsync(bed.Options(NoGc))).Revision!;
        await bed.Repository.CommitAsync("b", ("index.html", "b"));
        var newer = (await bed.SyncOnceAsync(bed.Options(NoGc))).Revision!;
        var git = bed.Root.Combine(".git");
        await File.WriteAllTextAsync(Path.Combine(git, "shallow"), newer + "\n");
        using (var store = new LibGit2Sharp.Repository(git))
        {
            store.Refs.Add("refs/remotes/origin/main", new LibGit2Sharp.ObjectId(older), allowOverwrite: true);
        }

        var last = await bed.Repository.CommitAsync("c", ("index.html", "c"));
        var result = await bed.SyncOnceAsync(bed.Options(NoGc));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(last, result.Revision);
        Assert.Equal("c", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }

    private void AssertCompleteSnapshotOrNone(Dictionary<string, string> expected)
    {
        if (bed.LinkTarget is not { } target)
        {
            return;
        }
        var sha = Path.GetFileName(target);
        Assert.StartsWith(".worktrees/", target);
        Assert.True(Directory.Exists(bed.LinkPath), $"the link {target} points at a missing folder");
        if (expected.TryGetValue(sha, out var version))
        {
            Assert.Equal(version, File.ReadAllText(Path.Combine(bed.LinkPath, "version.txt")));
        }
        // 301 files and the worktree's .git file.
        Assert.Equal(302, Directory.GetFiles(bed.LinkPath, "*", SearchOption.AllDirectories).Length);
    }
}
