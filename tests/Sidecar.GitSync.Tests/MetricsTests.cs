using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// git-sync's metric semantics, as test_e2e.sh reads them: <c>git_sync_count_total{status="success"}</c> and
/// <c>git_fetch_count_total</c> count one per sync that changes the revision (a ref moved back, a removed snapshot
/// made again) whether or not the commit was already stored, and the first good sync of a process counts once.
/// </summary>
[Trait("Category", "InProcess")]
public sealed class MetricsTests : IAsyncLifetime
{
    private const string Success = "git_sync_count_total{status=\"success\"}";
    private const string Fetches = "git_fetch_count_total";
    private SyncTestBed bed = null!;

    public async Task InitializeAsync() => bed = await SyncTestBed.StartAsync();

    public async Task DisposeAsync() => await bed.DisposeAsync();

    private WebApplication Start(string gitRef = "HEAD") => GitSyncApp.Build(bed.Options(o =>
    {
        o.Ref = gitRef;
        o.OneTime = false;
        o.Period = TimeSpan.FromMilliseconds(100);
        o.MaxFailures = -1;
    }));

    private static long Metric(WebApplication app, string series)
    {
        var text = MetricsEndpoint.Render(app.Services.GetRequiredService<GitSyncTelemetry>());
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task PublishedAsync(WebApplication app, string sha, long count)
    {
        await Eventually.HoldsAsync(() => bed.LinkTarget == $".worktrees/{sha}" && Metric(app, Success) == count, $"{sha} is published, success {count}");
        // Some more polls that change nothing count nothing.
        await Task.Delay(400);
        Assert.Equal(count, Metric(app, Success));
        Assert.Equal(count, Metric(app, Fetches));
    }

    [Fact]
    public async Task ABranchMovedForwardThenBackCountsAFetchAndASuccessEachTime()
    {
        var first = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using var app = Start();
        await app.StartAsync();
        await PublishedAsync(app, first, 1);

        var second = await bed.Repository.CommitAsync("two", ("file", "two"));
        await PublishedAsync(app, second, 2);

        // Back to a commit the store already holds: git-sync still counts the fetch.
        await bed.Repository.GitAsync("update-ref", "refs/heads/main", first);
        await PublishedAsync(app, first, 3);
        Assert.True(Metric(app, "git_sync_count_total{status=\"noop\"}") > 0);
        await app.StopAsync();
    }

    [Fact]
    public async Task ATagMovedBackCountsAndCommitsAfterItDoNot()
    {
        var first = await bed.Repository.CommitAsync("one", ("file", "one"));
        await bed.Repository.GitAsync("tag", "-f", "release", first);
        await using var app = Start("release");
        await app.StartAsync();
        await PublishedAsync(app, first, 1);

        var second = await bed.Repository.CommitAsync("two", ("file", "two"));
        await bed.Repository.GitAsync("tag", "-f", "release", second);
        await PublishedAsync(app, second, 2);

        await bed.Repository.GitAsync("tag", "-f", "release", first);
        await PublishedAsync(app, first, 3);

        await bed.Repository.CommitAsync("three", ("file", "three"));
        await PublishedAsync(app, first, 3);
        await app.StopAsync();
    }

    [Fact]
    public async Task ARemovedSnapshotMadeAgainCountsAFetch()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using var app = Start();
        await app.StartAsync();
        await PublishedAsync(app, sha, 1);

        // Snapshots are read-only: make them writable to remove one, as `rm -r` by its owner does.
        var snapshot = bed.Root.Combine(".worktrees", sha);
        foreach (var entry in Directory.EnumerateFileSystemEntries(snapshot, "*", SearchOption.AllDirectories).Append(snapshot))
        {
            File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) | UnixFileMode.UserWrite);
        }
        Directory.Delete(snapshot, recursive: true);

        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(bed.LinkPath, "file")), "the snapshot is made again");
        await PublishedAsync(app, sha, 2);
        await app.StopAsync();
    }

    [Fact]
    public async Task TheFirstSyncOfARestartedProcessCountsOnceEvenWithTheRevisionInPlace()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using (var first = Start())
        {
            await first.StartAsync();
            await PublishedAsync(first, sha, 1);
            await first.StopAsync();
        }

        await using var restarted = Start();
        await restarted.StartAsync();

        await PublishedAsync(restarted, sha, 1);
        await restarted.StopAsync();
    }

    [Fact]
    public async Task ACommitShaRefCountsOnceAndFailuresCountNoFetch()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using (var app = Start(sha))
        {
            await app.StartAsync();
            await PublishedAsync(app, sha, 1);
            await bed.Repository.CommitAsync("two", ("file", "two"));
            await PublishedAsync(app, sha, 1);
            await app.StopAsync();
        }

        await using var failing = Start("no-such-branch");
        await failing.StartAsync();
        await Eventually.HoldsAsync(() => Metric(failing, "git_sync_count_total{status=\"error\"}") >= 2, "failures are counted");
        Assert.Equal(0, Metric(failing, Fetches));
        Assert.Equal(0, Metric(failing, Success));
        await failing.StopAsync();
    }
}
