using System.Security.Cryptography;
using System.Text;
using LibGit2Sharp;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary><c>--git-gc</c> against a real smart-HTTP origin: what each mode leaves in <c>ROOT/.git</c>, and that syncing goes on.</summary>
[Trait("Category", "InProcess")]
public sealed class GcTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    private string GitDirectory => bed.Root.Combine(".git");

    private string[] Packs => Directory.GetFiles(Path.Combine(GitDirectory, "objects", "pack"), "*.pack");

    private string[] LooseObjects => Directory.EnumerateDirectories(Path.Combine(GitDirectory, "objects"), "??")
        .SelectMany(Directory.EnumerateFiles).ToArray();

    // The id git gives a blob with this content, so a test can ask whether the store still holds it.
    private static string BlobId(string content) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"blob {Encoding.UTF8.GetByteCount(content)}\0{content}")));

    private static void Auto(GitSyncOptions options) => options.GitGc = GitGcMode.Auto;

    private async Task<string> CommitAndSyncAsync(string content, Action<GitSyncOptions> configure)
    {
        var sha = await bed.Repository.CommitAsync(content, ("a.txt", content), ("shared/b.txt", "unchanged"));
        var result = await bed.SyncOnceAsync(bed.Options(configure));
        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(sha, result.Revision);
        return sha;
    }

    [Fact]
    public async Task AlwaysRepacksTheSubmoduleStoresToWhatTheKeptCommitsPointAt()
    {
        void Always(GitSyncOptions o) => o.GitGc = GitGcMode.Always;
        var lib = await bed.Origin.CreateRepositoryAsync("lib");
        var inner = await bed.Origin.CreateRepositoryAsync("inner");
        string? lastLib = null, lastInner = null, firstLib = null, firstInner = null;
        for (var i = 1; i <= 3; i++)
        {
            lastInner = await inner.CommitAsync($"inner {i}", ("inner.txt", $"inner v{i}"));
            lastLib = await SubmoduleTests.CommitWithGitlinksAsync(lib, $"lib {i}", [("deps/inner", "inner", "../inner.git", lastInner)], ("lib.js", $"lib v{i}"));
            await SubmoduleTests.CommitWithGitlinksAsync(bed.Repository, $"site {i}", [("vendor/lib", "lib", "../lib.git", lastLib)], ("index.html", $"site v{i}"));
            var result = await bed.SyncOnceAsync(bed.Options(Always));
            Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
            firstLib ??= lastLib;
            firstInner ??= lastInner;
        }

        string[] stores = [Path.Combine(GitDirectory, "modules", "lib"), Path.Combine(GitDirectory, "modules", "lib", "modules", "inner")];
        foreach (var store in stores)
        {
            Assert.Single(Directory.GetFiles(Path.Combine(store, "objects", "pack"), "*.pack"));
        }
        using (var libStore = new Repository(stores[0]))
        {
            Assert.Null(libStore.Lookup<Commit>(firstLib!));
            Assert.Equal("lib v3", ((Blob)libStore.Lookup<Commit>(lastLib!)!["lib.js"].Target).GetContentText());
        }
        using (var innerStore = new Repository(stores[1]))
        {
            Assert.Null(innerStore.Lookup<Commit>(firstInner!));
            Assert.Equal("inner v3", ((Blob)innerStore.Lookup<Commit>(lastInner!)!["inner.txt"].Target).GetContentText());
        }
        Assert.Equal("inner v3", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "vendor", "lib", "deps", "inner", "inner.txt")));

        // The repacked stores serve the next bump as before.
        var nextInner = await inner.CommitAsync("inner 4", ("inner.txt", "inner v4"));
        var nextLib = await SubmoduleTests.CommitWithGitlinksAsync(lib, "lib 4", [("deps/inner", "inner", "../inner.git", nextInner)], ("lib.js", "lib v4"));
        await SubmoduleTests.CommitWithGitlinksAsync(bed.Repository, "site 4", [("vendor/lib", "lib", "../lib.git", nextLib)]);
        var next = await bed.SyncOnceAsync(bed.Options(Always));
        Assert.True(next.Outcome == SyncOutcome.Success, next.Error);
        Assert.Equal("inner v4", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "vendor", "lib", "deps", "inner", "inner.txt")));
    }

    [Fact]
    public async Task AlwaysLeavesOnePackOfWhatIsServedAndDropsWhatIsNoLongerKept()
    {
        void Always(GitSyncOptions o) => o.GitGc = GitGcMode.Always;
        var first = await CommitAndSyncAsync("one", Always);
        var second = await CommitAndSyncAsync("two", Always);
        var third = await CommitAndSyncAsync("three", Always);

        Assert.Single(Packs);
        Assert.Single(Directory.GetFiles(Path.Combine(GitDirectory, "objects", "pack"), "*.idx"));
        Assert.Empty(LooseObjects);
        using (var store = new Repository(GitDirectory))
        {
            Assert.Null(store.Lookup<Commit>(first));
            Assert.Null(store.Lookup<Commit>(second));
            Assert.False(store.ObjectDatabase.Contains(new ObjectId(BlobId("one"))));
            Assert.False(store.ObjectDatabase.Contains(new ObjectId(BlobId("two"))));
            var served = store.Lookup<Commit>(third);
            Assert.NotNull(served);
            Assert.Equal("three", ((Blob)served["a.txt"].Target).GetContentText());
            Assert.Equal("unchanged", ((Blob)served["shared/b.txt"].Target).GetContentText());
        }
        Assert.Equal("three", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a.txt")));

        // The repacked (and still shallow) store fetches the next commit as before.
        await CommitAndSyncAsync("four", Always);
        Assert.Equal("four", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a.txt")));
        Assert.Single(Packs);
    }

    [Fact]
    public async Task AlwaysKeepsTheCommitsOfSnapshotsKeptByTheStaleWorktreeTimeout()
    {
        void KeepForAnHour(GitSyncOptions o)
        {
            o.GitGc = GitGcMode.Always;
            o.StaleWorktreeTimeout = TimeSpan.FromHours(1);
        }
        var first = await CommitAndSyncAsync("one", KeepForAnHour);
        var second = await CommitAndSyncAsync("two", KeepForAnHour);

        Assert.Single(Packs);
        using var store = new Repository(GitDirectory);
        Assert.Equal("one", ((Blob)store.Lookup<Commit>(first)["a.txt"].Target).GetContentText());
        Assert.Equal("two", ((Blob)store.Lookup<Commit>(second)["a.txt"].Target).GetContentText());
    }

    [Fact]
    public async Task AlwaysWithDepthZeroKeepsTheWholeHistoryWalkable()
    {
        void FullHistory(GitSyncOptions o)
        {
            o.GitGc = GitGcMode.Always;
            o.Depth = 0;
        }
        await CommitAndSyncAsync("one", FullHistory);
        await CommitAndSyncAsync("two", FullHistory);
        var third = await CommitAndSyncAsync("three", FullHistory);

        Assert.Single(Packs);
        Assert.False(File.Exists(Path.Combine(GitDirectory, "shallow")));
        using (var store = new Repository(GitDirectory))
        {
            // Parents first, not by time: the commits are made within the same second.
            var history = store.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = third, SortBy = CommitSortStrategies.Topological }).ToList();
            Assert.Equal(["three", "two", "one"], history.Select(c => ((Blob)c["a.txt"].Target).GetContentText()));
        }

        var fourth = await CommitAndSyncAsync("four", FullHistory);
        using var after = new Repository(GitDirectory);
        Assert.Equal(4, after.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = fourth }).Count());
    }

    [Fact]
    public async Task AutoLeavesTheStoreAloneBelowGitsThresholds()
    {
        var first = await CommitAndSyncAsync("one", Auto);
        await CommitAndSyncAsync("two", Auto);
        await CommitAndSyncAsync("three", Auto);

        // libgit2 stores each fetch as a pack of its own; three are far below 50.
        Assert.Equal(3, Packs.Length);
        using var store = new Repository(GitDirectory);
        Assert.NotNull(store.Lookup<Commit>(first));
    }

    [Fact]
    public async Task AutoRepacksOnceThereAreMorePacksThanTheLimit()
    {
        void LimitTwo(GitSyncOptions o) { o.GitGc = GitGcMode.Auto; o.GcAutoPackLimit = 2; }
        var first = await CommitAndSyncAsync("one", LimitTwo);
        await CommitAndSyncAsync("two", LimitTwo);
        Assert.Equal(2, Packs.Length);

        var third = await CommitAndSyncAsync("three", LimitTwo);

        Assert.Single(Packs);
        using var store = new Repository(GitDirectory);
        Assert.Null(store.Lookup<Commit>(first));
        Assert.Equal("three", ((Blob)store.Lookup<Commit>(third)["a.txt"].Target).GetContentText());
    }

    [Fact]
    public async Task AutoRepacksWhenTheLooseObjectEstimateIsOverTheLimit()
    {
        await CommitAndSyncAsync("one", Auto);
        // git estimates loose objects from objects/17 alone: with a limit of 256, two there are too many.
        using (var store = new Repository(GitDirectory))
        {
            for (var n = 0; Directory.Exists(Path.Combine(GitDirectory, "objects", "17")) is false
                || Directory.GetFiles(Path.Combine(GitDirectory, "objects", "17")).Length < 2; n++)
            {
                store.ObjectDatabase.CreateBlob(new MemoryStream(Encoding.UTF8.GetBytes($"loose {n}")));
            }
        }
        Assert.True(LooseObjects.Length >= 2);

        var second = await CommitAndSyncAsync("two", o => { o.GitGc = GitGcMode.Auto; o.GcAutoLooseObjects = 256; });

        Assert.Empty(LooseObjects);
        Assert.Single(Packs);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a.txt")));
        using var after = new Repository(GitDirectory);
        Assert.NotNull(after.Lookup<Commit>(second));
    }

    [Fact]
    public async Task OffChangesNothing()
    {
        void Off(GitSyncOptions o)
        {
            o.GitGc = GitGcMode.Off;
            o.GcAutoPackLimit = 1;
        }
        var first = await CommitAndSyncAsync("one", Off);
        var loose = CreateLooseBlob("never referenced");
        await CommitAndSyncAsync("two", Off);
        await CommitAndSyncAsync("three", Off);

        Assert.Equal(3, Packs.Length);
        using var store = new Repository(GitDirectory);
        Assert.NotNull(store.Lookup<Commit>(first));
        Assert.True(store.ObjectDatabase.Contains(loose));
    }

    [Fact]
    public async Task LeftoversOfAnInterruptedGcAreRemovedByTheNextOne()
    {
        void Always(GitSyncOptions o) => o.GitGc = GitGcMode.Always;
        await CommitAndSyncAsync("one", Always);
        // As a crash leaves them: a half-written pack in the work folder, and a pack installed without its index.
        Directory.CreateDirectory(Path.Combine(GitDirectory, "sidecar-gc.tmp"));
        await File.WriteAllTextAsync(Path.Combine(GitDirectory, "sidecar-gc.tmp", "pack-0000.pack"), "partial");
        var orphan = Path.Combine(GitDirectory, "objects", "pack", "pack-0123456789012345678901234567890123456789.pack");
        await File.WriteAllTextAsync(orphan, "PACK without an index");

        await CommitAndSyncAsync("two", Always);

        Assert.Single(Packs);
        Assert.False(File.Exists(orphan));
        Assert.False(Directory.Exists(Path.Combine(GitDirectory, "sidecar-gc.tmp")));
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a.txt")));
    }

    [Fact]
    public async Task AFailedGcNeitherFailsTheSyncNorStopsTheNextOne()
    {
        void Always(GitSyncOptions o) => o.GitGc = GitGcMode.Always;
        await CommitAndSyncAsync("one", Always);
        // A file where the repack writes its pack makes every repack fail.
        await File.WriteAllTextAsync(Path.Combine(GitDirectory, "sidecar-gc.tmp"), "in the way");

        await CommitAndSyncAsync("two", Always);
        await CommitAndSyncAsync("three", Always);

        Assert.Equal("three", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "a.txt")));
        Assert.Equal(3, Packs.Length);
    }

    private ObjectId CreateLooseBlob(string content)
    {
        using var store = new Repository(GitDirectory);
        return store.ObjectDatabase.CreateBlob(new MemoryStream(Encoding.UTF8.GetBytes(content))).Id;
    }

    private static GitSyncCommandLineResult Parse(string[] args, Dictionary<string, string>? environment = null) =>
        GitSyncCommandLine.Parse(["--repo=https://example.com/org/site.git", "--root=/tmp/r", .. args],
            name => environment is not null && environment.TryGetValue(name, out var value) ? value : null);

    [Theory]
    [InlineData("auto", GitGcMode.Auto)]
    [InlineData("always", GitGcMode.Always)]
    [InlineData("aggressive", GitGcMode.Aggressive)]
    [InlineData("off", GitGcMode.Off)]
    public void TheFlagAndItsVariableTakeEachMode(string value, GitGcMode expected)
    {
        Assert.Equal(expected, Parse([$"--git-gc={value}"]).Options.GitGc);
        Assert.Equal(expected, Parse([], new() { ["GITSYNC_GIT_GC"] = value }).Options.GitGc);
    }

    [Fact]
    public void TheDefaultIsAlwaysAsInGitSyncAndTheCommandLineWinsOverTheVariable()
    {
        Assert.Equal(GitGcMode.Always, Parse([]).Options.GitGc);
        Assert.Equal(GitGcMode.Off, Parse(["--git-gc", "off"], new() { ["GITSYNC_GIT_GC"] = "always" }).Options.GitGc);
        Assert.Contains("--git-gc=MODE", GitSyncCommandLine.HelpText());
        Assert.Contains("aggressive (the same as always", GitSyncCommandLine.HelpText());
    }

    [Fact]
    public void AnUnknownModeIsRefusedWithTheChoices()
    {
        Assert.Contains("--git-gc 'sometimes' is not a mode: give auto, always, aggressive or off", Parse(["--git-gc=sometimes"]).Errors);
        Assert.Contains("--git-gc 'ALWAYS' is not a mode: give auto, always, aggressive or off (from GITSYNC_GIT_GC)",
            Parse([], new() { ["GITSYNC_GIT_GC"] = "ALWAYS" }).Errors);
    }
}
