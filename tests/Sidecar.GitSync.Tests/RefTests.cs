using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's ref and repo-switch cases: SHA, HEAD, branch and repo switches with the root kept, force-push.</summary>
[Trait("Category", "InProcess")]
public sealed class RefTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task AFullShaIsFetchedByItsId()
    {
        var old = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.Repository.CommitAsync("two", ("index.html", "two"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = old));

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(old, result.Revision);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal(SyncOutcome.Noop, (await bed.SyncOnceAsync(bed.Options(o => o.Ref = old))).Outcome);
    }

    [Fact]
    public async Task AnUnknownShaFailsWithTheFix()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = new string('a', 40)));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains(new string('a', 40), result.Error);
        Assert.Contains("give a commit that exists on the remote", result.Error);
    }

    [Fact]
    public async Task AMissingRepoFailsWithTheUrlAndTheFix()
    {
        var url = bed.Origin.BaseUrl + "/missing.git";

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Repo = url));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains($"--repo '{url}' was not found on the server (HTTP 404; git: repository '{url}' not found): check the URL", result.Error);
    }

    [Fact]
    public async Task HeadFollowsTheDefaultBranch()
    {
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = "HEAD"));

        Assert.Equal(sha, result.Revision);
    }

    [Fact]
    public async Task SwitchingTheBranchWithTheRootKeptPublishesTheOtherBranch()
    {
        var main = await bed.Repository.CommitAsync("main", ("index.html", "main"));
        await bed.Repository.GitAsync("branch", "other", main);
        var other = await bed.Repository.GitAsync("commit-tree", "-p", main, "-m", "other", main + "^{tree}");
        await bed.Repository.GitAsync("update-ref", "refs/heads/other", other.Trim());

        Assert.Equal(main, (await bed.SyncOnceAsync(bed.Options())).Revision);
        var switched = await bed.SyncOnceAsync(bed.Options(o => o.Ref = "other"));

        Assert.Equal(SyncOutcome.Success, switched.Outcome);
        Assert.Equal(other.Trim(), switched.Revision);
        Assert.Equal([other.Trim()], bed.Snapshots);
    }

    [Fact]
    public async Task SwitchingTheRepoUrlWithTheRootKeptPublishesTheNewRepo()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "first repo"));
        await bed.SyncOnceAsync(bed.Options());
        var second = await bed.Origin.CreateRepositoryAsync("second");
        var sha = await second.CommitAsync("one", ("index.html", "second repo"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Repo = second.Url));

        Assert.Equal(sha, result.Revision);
        Assert.Equal("second repo", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }

    [Fact]
    public async Task AForcePushToAnOlderCommitIsPublished()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        Assert.Equal(second, (await bed.SyncOnceAsync(bed.Options())).Revision);

        var branch = (await bed.Repository.GitAsync("symbolic-ref", "HEAD")).Trim();
        await bed.Repository.GitAsync("update-ref", branch, first);
        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(first, result.Revision);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }
}
