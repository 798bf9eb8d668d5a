using Sidecar.DemoOrigin;
using LibGit2Sharp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>The sidecar against a real smart-HTTP git server on loopback.</summary>
[Trait("Category", "InProcess")]
public sealed class SyncTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    [Fact]
    public async Task FirstSyncPublishesTheSnapshotAndARelativeLink()
    {
        var sha = await bed.Repository.CommitAsync("first", ("index.html", "<h1>one</h1>"), ("css/site.css", "body{}"));

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(sha, result.Revision);
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        Assert.Equal("<h1>one</h1>", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        Assert.Equal("body{}", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "css", "site.css")));
        Assert.True(Repository.IsValid(bed.Root.Combine(".git")));
        Assert.Equal([sha], bed.Snapshots);
    }

    [Fact]
    public async Task NoChangeMeansNoNewSnapshotAndTheSameLink()
    {
        var sha = await bed.Repository.CommitAsync("first", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var snapshotWritten = Directory.GetLastWriteTimeUtc(bed.Root.Combine(".worktrees", sha));
        var linkWritten = File.GetLastWriteTimeUtc(bed.LinkPath);

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Noop, result.Outcome);
        Assert.Equal(sha, result.Revision);
        Assert.Equal([sha], bed.Snapshots);
        Assert.Equal(snapshotWritten, Directory.GetLastWriteTimeUtc(bed.Root.Combine(".worktrees", sha)));
        Assert.Equal(linkWritten, File.GetLastWriteTimeUtc(bed.LinkPath));
    }

    [Fact]
    public async Task ANewCommitIsPublishedOnceThePeriodHasPassedOnTheInjectedClock()
    {
        var clock = new FakeClock();
        var period = TimeSpan.FromSeconds(10);
        var first = await bed.Repository.CommitAsync("first", ("index.html", "one"));
        await using var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.OneTime = false;
            o.MaxFailures = -1;
            o.Period = period;
        }), clock);
        await app.StartAsync();
        var status = app.Services.GetRequiredService<SyncStatus>();

        await clock.WhenWaitingAsync(period, "the loop waits a period after the first sync");
        Assert.Equal(first, status.PublishedRevision);
        var second = await bed.Repository.CommitAsync("second", ("index.html", "two"));

        // Short of the period the loop still waits: only the clock ends its wait.
        clock.Advance(period - TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), await clock.WhenWaitingAsync(period, "one second of the period is left"));
        Assert.Equal(first, status.PublishedRevision);

        clock.Advance(TimeSpan.FromSeconds(1));
        await clock.WhenWaitingAsync(period, "the loop waits again after the second sync");
        Assert.Equal(second, status.PublishedRevision);
        Assert.Equal($".worktrees/{second}", bed.LinkTarget);
        Assert.Equal("two", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
        // The replaced snapshot is cleaned up once the new one is published.
        Assert.Equal([second], bed.Snapshots);

        // A trigger (a signal, POST /sync) cuts the period short without the clock moving.
        var third = await bed.Repository.CommitAsync("third", ("index.html", "three"));
        var now = clock.GetUtcNow();
        var result = await app.Services.GetRequiredService<SyncTrigger>().RequestAsync(CancellationToken.None);
        Assert.Equal((SyncOutcome.Success, third), (result.Outcome, result.Revision));
        Assert.Equal(now, clock.GetUtcNow());
        await app.StopAsync();
    }

    [Fact]
    public async Task DepthOneGivesAShallowCloneAndDepthZeroTheWholeHistory()
    {
        await bed.Repository.CommitAsync("one", ("a.txt", "1"));
        await bed.Repository.CommitAsync("two", ("a.txt", "2"));
        var head = await bed.Repository.CommitAsync("three", ("a.txt", "3"));

        await bed.SyncOnceAsync(bed.Options(o => o.Depth = 1));
        using (var shallow = new Repository(bed.Root.Combine(".git")))
        {
            Assert.True(File.Exists(bed.Root.Combine(".git", "shallow")));
            Assert.Single(shallow.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = head }));
        }

        // Changing the depth across restarts works: 0 fetches everything that was cut off.
        await bed.Repository.CommitAsync("four", ("a.txt", "4"));
        var result = await bed.SyncOnceAsync(bed.Options(o => o.Depth = 0));
        Assert.Equal(SyncOutcome.Success, result.Outcome);
        using var full = new Repository(bed.Root.Combine(".git"));
        Assert.False(File.Exists(bed.Root.Combine(".git", "shallow")));
        Assert.Equal(4, full.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = result.Revision }).Count());
    }

    [Fact]
    public async Task AfterManyShallowSyncsEveryCommitInTheStoreHasItsParentsOrIsMarkedShallow()
    {
        // libgit2 writes .git/shallow with the boundary of the last fetch only. A commit of an earlier fetch then has
        // a missing parent and no mark, and any walk through it (the next fetch's negotiation when a ref was left
        // behind by a crash, or gc from a kept snapshot) fails with "object not found".
        var revisions = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            await bed.Repository.CommitAsync($"c{i}", ("a.txt", i.ToString()));
            await bed.Repository.CommitAsync($"d{i}", ("b.txt", i.ToString()));
            // No repack, so every fetch stays in the store (as under --git-gc=auto below git's thresholds).
            var result = await bed.SyncOnceAsync(bed.Options(o => { o.Depth = 1; o.GitGc = GitGcMode.Off; }));
            Assert.Equal(SyncOutcome.Success, result.Outcome);
            revisions.Add(result.Revision!);
        }

        var fsck = await GitCli.RunAsync(bed.Root.Path, "--git-dir=.git", "fsck", "--connectivity-only", "--no-dangling");
        Assert.DoesNotContain("missing", fsck);
        Assert.DoesNotContain("broken", fsck);
        var shallow = File.ReadAllLines(bed.Root.Combine(".git", "shallow"));
        // Each fetched tip lacks its parent (two commits land between syncs), so each keeps its mark.
        Assert.Equal(revisions.Order(StringComparer.Ordinal), shallow.Order(StringComparer.Ordinal));
        // A walk from the oldest fetched commit stops at its mark instead of failing.
        using var store = new Repository(bed.Root.Combine(".git"));
        Assert.Single(store.Commits.QueryBy(new CommitFilter { IncludeReachableFrom = revisions[0] }));
    }

    [Fact]
    public async Task ABadRefFailsWithAClearErrorAndPublishesNothing()
    {
        await bed.Repository.CommitAsync("first", ("index.html", "one"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = "no-such-branch"));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Contains("'no-such-branch'", result.Error);
        Assert.Contains("branch or tag that exists", result.Error);
        Assert.Null(result.Revision);
        Assert.False(File.Exists(bed.LinkPath) || Directory.Exists(bed.LinkPath));
        Assert.Empty(bed.Snapshots);
    }

    [Fact]
    public async Task ABadRefAfterAGoodSyncKeepsTheLastGoodRevisionServed()
    {
        var sha = await bed.Repository.CommitAsync("first", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = "gone"));

        Assert.Equal(SyncOutcome.Error, result.Outcome);
        Assert.Equal(sha, result.Revision);
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        Assert.Equal("one", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }

    [Fact]
    public async Task BranchesAndAnnotatedTagsResolveToTheirCommits()
    {
        var tagged = await bed.Repository.CommitAsync("release", ("index.html", "v1"));
        await bed.Repository.GitAsync("tag", "-a", "v1", "-m", "version 1", tagged);
        await bed.Repository.CommitAsync("later", ("index.html", "v2"));

        var result = await bed.SyncOnceAsync(bed.Options(o => o.Ref = "v1"));

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.Equal(tagged, result.Revision);
        Assert.Equal("v1", await File.ReadAllTextAsync(Path.Combine(bed.LinkPath, "index.html")));
    }

    [Fact]
    public async Task ExecutableBitsAreKeptAndEscapingSymlinksRefused()
    {
        await bed.Repository.CommitAsync("files", ("run.sh", "#!/bin/sh\necho hi\n"), ("page.html", "page"));
        File.SetUnixFileMode(Path.Combine(bed.Repository.WorkTree, "run.sh"), (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(Path.Combine(bed.Repository.WorkTree, "inside.html"), "page.html");
        File.CreateSymbolicLink(Path.Combine(bed.Repository.WorkTree, "outside"), "/etc/passwd");
        await bed.Repository.CommitAsync("modes");

        var result = await bed.SyncOnceAsync(bed.Options());

        Assert.Equal(SyncOutcome.Success, result.Outcome);
        Assert.True(File.GetUnixFileMode(Path.Combine(bed.LinkPath, "run.sh")).HasFlag(UnixFileMode.UserExecute));
        Assert.False(File.GetUnixFileMode(Path.Combine(bed.LinkPath, "page.html")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal("page.html", new FileInfo(Path.Combine(bed.LinkPath, "inside.html")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(bed.LinkPath, "outside")));
    }
}
