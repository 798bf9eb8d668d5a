using LibGit2Sharp;
using Sidecar.DemoOrigin;
using Sidecar.Tests;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// A full SHA as --ref against a smart-HTTP server with git's default settings (test_e2e.sh's sha cases run against
/// such a server): no uploadpack.allowReachableSHA1InWant, so a protocol v0 want of an unadvertised commit is refused.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class ShaRefTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync()
    {
        bed = await SyncTestBed.StartAsync();
        // The demo origin allows any reachable SHA; a server as git sets it up does not.
        await bed.Repository.GitAsync("config", "--unset", "uploadpack.allowReachableSHA1InWant");
    }

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task TheServerRefusesAWantOfAnUnadvertisedCommitOverProtocolZero()
    {
        var old = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.Repository.CommitAsync("two", ("index.html", "two"));
        using var client = new TempFolder("sidecar-client");
        await GitCli.RunAsync(client.Path, "init", "-q");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            GitCli.RunAsync(client.Path, "-c", "protocol.version=0", "fetch", "-q", bed.Repository.Url, old));

        Assert.Contains("does not allow request for unadvertised object", refused.Message);
    }

    [Fact]
    public async Task ATaggedCommitThatIsNotTheTipIsFetchedAtTheDepthAsked()
    {
        var tagged = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.Repository.CommitAsync("three", ("index.html", "three"));
        await bed.Repository.GitAsync("tag", "-a", "-m", "release", "v1", tagged);
        await bed.Repository.CommitAsync("base", ("base.html", "0"));

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Ref = tagged; o.Depth = 1; }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(tagged, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal(tagged, await GitCli.RunAsync(bed.LinkPath, "log", "--format=%H"));
    }

    [Fact]
    public async Task AnUntaggedCommitReachableFromABranchIsFetched()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var middle = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await bed.Repository.CommitAsync("three", ("index.html", "three"));

        var result = await bed.SyncOnceAsync(bed.Options(o => { o.Ref = middle; o.Depth = 1; }));

        Assert.True(result.Outcome == SyncOutcome.Success, result.Error);
        Assert.Equal(middle, await GitCli.RunAsync(bed.LinkPath, "rev-parse", "HEAD"));
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        using var store = new Repository(bed.Root.Combine(".git"));
        Assert.DoesNotContain(store.Refs, r => r.CanonicalName.StartsWith("refs/sidecar/search/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACommitTheRemoteDoesNotHaveFailsWithTheFixAndKeepsTheRevision()
    {
        var head = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = new string('a', 40)));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"--ref {new string('a', 40)} could not be fetched", result.Error);
        Assert.Contains("give a commit that exists on the remote and is reachable from one of its branches or tags", result.Error);
        Assert.Equal(head, result.Revision);
    }
}
