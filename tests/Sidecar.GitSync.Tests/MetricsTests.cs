using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.GitSync.Http;
using Sidecar.GitSync.Telemetry;

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

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private readonly FakeClock clock = new();

    /// <summary>Starts a looping sidecar on the fake clock and returns once its first sync has ended.</summary>
    private async Task<WebApplication> StartAsync(string gitRef = "HEAD")
    {
        var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.Ref = gitRef;
            o.OneTime = false;
            o.Period = Period;
            o.MaxFailures = -1;
        }), clock);
        await app.StartAsync();
        await clock.WhenWaitingAsync(Period, "the first sync ends");
        return app;
    }

    /// <summary>Lets one period pass; returns once the sync it starts has ended.</summary>
    private Task PollAsync() => clock.NextPeriodAsync(Period);

    private static long Metric(WebApplication app, string series)
    {
        var text = MetricsEndpoint.Render(app.Services.GetRequiredService<GitSyncTelemetry>());
        var line = text.Split('\n').SingleOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task PublishedAsync(WebApplication app, string sha, long count)
    {
        Assert.Equal($".worktrees/{sha}", bed.LinkTarget);
        Assert.Equal(count, Metric(app, Success));
        // Some more polls that change nothing count nothing.
        for (var poll = 0; poll < 3; poll++)
        {
            await PollAsync();
        }
        Assert.Equal(count, Metric(app, Success));
        Assert.Equal(count, Metric(app, Fetches));
    }

    [Fact]
    public async Task ABranchMovedForwardThenBackCountsAFetchAndASuccessEachTime()
    {
        var first = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using var app = await StartAsync();
        await PublishedAsync(app, first, 1);

        var second = await bed.Repository.CommitAsync("two", ("file", "two"));
        await PollAsync();
        await PublishedAsync(app, second, 2);

        // Back to a commit the store already holds: git-sync still counts the fetch.
        await bed.Repository.GitAsync("update-ref", "refs/heads/main", first);
        await PollAsync();
        await PublishedAsync(app, first, 3);
        Assert.True(Metric(app, "git_sync_count_total{status=\"noop\"}") > 0);
        await app.StopAsync();
    }

    [Fact]
    public async Task ATagMovedBackCountsAndCommitsAfterItDoNot()
    {
        var first = await bed.Repository.CommitAsync("one", ("file", "one"));
        await bed.Repository.GitAsync("tag", "-f", "release", first);
        await using var app = await StartAsync("release");
        await PublishedAsync(app, first, 1);

        var second = await bed.Repository.CommitAsync("two", ("file", "two"));
        await bed.Repository.GitAsync("tag", "-f", "release", second);
        await PollAsync();
        await PublishedAsync(app, second, 2);

        await bed.Repository.GitAsync("tag", "-f", "release", first);
        await PollAsync();
        await PublishedAsync(app, first, 3);

        await bed.Repository.CommitAsync("three", ("file", "three"));
        await PollAsync();
        await PublishedAsync(app, first, 3);
        await app.StopAsync();
    }

    [Fact]
    public async Task ARemovedSnapshotMadeAgainCountsAFetch()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using var app = await StartAsync();
        await PublishedAsync(app, sha, 1);

        // Snapshots are read-only: make them writable to remove one, as `rm -r` by its owner does.
        var snapshot = bed.Root.Combine(".worktrees", sha);
        foreach (var entry in Directory.EnumerateFileSystemEntries(snapshot, "*", SearchOption.AllDirectories).Append(snapshot))
        {
            File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) | UnixFileMode.UserWrite);
        }
        Directory.Delete(snapshot, recursive: true);

        await PollAsync();
        Assert.True(File.Exists(Path.Combine(bed.LinkPath, "file")), "the snapshot is made again");
        await PublishedAsync(app, sha, 2);
        await app.StopAsync();
    }

    [Fact]
    public async Task TheFirstSyncOfARestartedProcessCountsOnceEvenWithTheRevisionInPlace()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using (var first = await StartAsync())
        {
            await PublishedAsync(first, sha, 1);
            await first.StopAsync();
        }

        await using var restarted = await StartAsync();

        await PublishedAsync(restarted, sha, 1);
        await restarted.StopAsync();
    }

    [Fact]
    public async Task ACommitShaRefCountsOnceAndFailuresCountNoFetch()
    {
        var sha = await bed.Repository.CommitAsync("one", ("file", "one"));
        await using (var app = await StartAsync(sha))
        {
            await PublishedAsync(app, sha, 1);
            await bed.Repository.CommitAsync("two", ("file", "two"));
            await PollAsync();
            await PublishedAsync(app, sha, 1);
            await app.StopAsync();
        }

        await using var failing = await StartAsync("no-such-branch");
        await PollAsync();
        Assert.Equal(2, Metric(failing, "git_sync_count_total{status=\"error\"}"));
        Assert.Equal(0, Metric(failing, Fetches));
        Assert.Equal(0, Metric(failing, Success));
        await failing.StopAsync();
    }
}
