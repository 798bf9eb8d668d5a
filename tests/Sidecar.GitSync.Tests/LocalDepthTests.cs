using LibGit2Sharp;
using Sidecar.DemoOrigin;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// --depth over a local path and file:// (test_e2e.sh's depth and gc_default cases run against local repositories): the
/// store holds only the history asked for, marked shallow as git marks it, and real git reads it whole.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class LocalDepthTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    private string GitDirectory => bed.Root.Combine(".git");

    private string Repo(bool fileUrl) => fileUrl ? "file://" + bed.Repository.BarePath : bed.Repository.BarePath;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DepthOneFetchesOnlyTheCommit(bool fileUrl)
    {
        await bed.Repository.CommitAsync("one", ("index.html", "1"));
        var head = await bed.Repository.CommitAsync("two", ("index.html", "2"));

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(fileUrl); o.Depth = 1; }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal("2", File.ReadAllText(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal(head, await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
        Assert.Equal(head, (await File.ReadAllTextAsync(Path.Combine(GitDirectory, "shallow"))).Trim());
        Assert.Equal("true", await GitCli.RunAsync(bed.LinkPath, "rev-parse", "--is-shallow-repository"));
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", GitDirectory, "fsck", "--no-progress");
    }

    [Fact]
    public async Task DepthTwoFetchesTwoCommits()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "1"));
        var second = await bed.Repository.CommitAsync("two", ("index.html", "2"));
        var head = await bed.Repository.CommitAsync("three", ("index.html", "3"));

        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(false); o.Depth = 2; }));

        Assert.Equal($"{head}\n{second}", await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
        Assert.Equal(second, (await File.ReadAllTextAsync(Path.Combine(GitDirectory, "shallow"))).Trim());
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", GitDirectory, "fsck", "--no-progress");
    }

    [Fact]
    public async Task DepthZeroAfterDepthOneFetchesTheWholeHistory()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "1"));
        var second = await bed.Repository.CommitAsync("two", ("index.html", "2"));
        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(true); o.Depth = 1; }));
        var head = await bed.Repository.CommitAsync("three", ("index.html", "3"));

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(true); o.Depth = 0; o.StaleWorktreeTimeout = TimeSpan.Zero; }));

        Assert.True(result.Outcome != SyncOutcome.Error, result.Error);
        Assert.False(File.Exists(Path.Combine(GitDirectory, "shallow")));
        Assert.Equal($"{head}\n{second}\n{first}", await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", GitDirectory, "fsck", "--no-progress");
    }

    [Fact]
    public async Task ANewCommitAtDepthOneCopiesOnlyWhatTheStoreLacksAndMarksItShallow()
    {
        await bed.Repository.CommitAsync("one", ("same.html", "same"), ("index.html", "1"));
        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(false); o.Depth = 1; }));
        var packsBefore = Packs();
        var head = await bed.Repository.CommitAsync("two", ("index.html", "2"));

        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(false); o.Depth = 1; o.GitGc = GitGcMode.Off; }));

        var added = Packs().Except(packsBefore).Single();
        // The commit, its tree and the changed blob; same.html's blob was in the store.
        var objects = (await GitCli.RunAsync(bed.Root.Path, "verify-pack", "-v", added))
            .Split('\n').Count(line => line.Length > 40 && line[40] == ' ' && !line.StartsWith("chain", StringComparison.Ordinal));
        Assert.Equal(3, objects);
        Assert.Equal(head, (await File.ReadAllTextAsync(Path.Combine(GitDirectory, "shallow"))).Trim());
        Assert.Equal(head, await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", GitDirectory, "fsck", "--no-progress");
    }

    [Fact]
    public async Task GitSyncsGcDefaultCaseStaysWithinTheSuitesBoundsWithTheDefaults()
    {
        // test_e2e.sh's gc_default (v4.7.1): two commits each add 4 MB of random bytes; du -s ROOT after each sync, in KB.
        var sha1 = await bed.Repository.CommitAsync("small", ("index.html", "1"));
        await File.WriteAllBytesAsync(Path.Combine(bed.Repository.WorkTree, "big1"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096 * 1024));
        var sha2 = await bed.Repository.CommitAsync("big1");
        await File.WriteAllBytesAsync(Path.Combine(bed.Repository.WorkTree, "big2"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(4096 * 1024));
        var sha3 = await bed.Repository.CommitAsync("big2");

        async Task<long> SyncAsync(string sha, int depth)
        {
            var result = await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(true); o.Ref = sha; o.Depth = depth; }));
            Assert.True(result.Outcome != SyncOutcome.Error, result.Error);
            var du = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("du", ["-sk", bed.Root.Path]) { RedirectStandardOutput = true })!;
            var output = await du.StandardOutput.ReadToEndAsync();
            await du.WaitForExitAsync();
            return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.InRange(await SyncAsync(sha3, 0), 14_000, 18_000);
        Assert.InRange(await SyncAsync(sha3, 1), 14_000, 18_000);
        Assert.InRange(await SyncAsync(sha2, 1), 7_000, 9_000);
        Assert.InRange(await SyncAsync(sha1, 1), 100, 7_000);
    }

    [Fact]
    public async Task WithGcAHistoryOfLargeFilesDoesNotStayOnDisk()
    {
        var large = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024));
        await bed.Repository.CommitAsync("large", ("index.html", "1"), ("large.bin", large));
        await bed.Repository.CommitAsync("gone", ("index.html", "2"), ("large.bin", null));
        var head = await bed.Repository.CommitAsync("three", ("index.html", "3"));

        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = Repo(true); o.Depth = 1; o.GitGc = GitGcMode.Always; }));

        using var store = new Repository(GitDirectory);
        Assert.Single(store.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = head }));
        var bytes = new DirectoryInfo(GitDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Assert.True(bytes < 256 * 1024, $"ROOT/.git holds {bytes} bytes: the large file's history was fetched");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARefMovedBackToAStoredCommitLetsGcDropTheNewerOnesFiles(bool local)
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "1"));
        var large = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024));
        var second = await bed.Repository.CommitAsync("large", ("index.html", "2"), ("large.bin", large));
        var repo = local ? Repo(fileUrl: true) : bed.Repository.Url;
        await bed.SyncOnceAsync(bed.Options(o => { o.Repo = repo; o.Ref = second; o.Depth = 0; }));

        // git-sync's gc_default: the ref goes back to a commit the store holds; its snapshot replaces the newer one.
        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Repo = repo; o.Ref = first; o.Depth = 1; o.GitGc = GitGcMode.Always; }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(first, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        var bytes = new DirectoryInfo(GitDirectory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        Assert.True(bytes < 256 * 1024, $"ROOT/.git holds {bytes} bytes: the newer commit's large file was kept");
        await GitCli.RunAsync(bed.Root.Path, "--git-dir", GitDirectory, "fsck", "--no-progress");
    }

    private string[] Packs() => Directory.GetFiles(Path.Combine(GitDirectory, "objects", "pack"), "*.idx");
}
