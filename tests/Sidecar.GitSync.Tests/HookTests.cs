using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Sidecar.GitSync.Tests;

/// <summary>test_e2e.sh's webhook and exechook cases.</summary>
[Trait("Category", "InProcess")]
public sealed class HookTests : IAsyncLifetime
{
    private SyncTestBed bed = null!;
    private HookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        bed = await SyncTestBed.StartAsync();
        receiver = await HookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await bed.DisposeAsync();
    }

    private GitSyncOptions Looping(Action<GitSyncOptions> configure) => bed.Options(o =>
    {
        o.OneTime = false;
        o.Period = TimeSpan.FromMilliseconds(100);
        o.MaxFailures = -1;
        configure(o);
    });

    [Fact]
    public async Task TheWebhookGetsTheHashAndTheSyncTraceAndIsRetriedUntilItSucceeds()
    {
        var syncTraces = new List<ActivityTraceId>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == GitSyncTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { if (a.OperationName == "sync") { lock (syncTraces) { syncTraces.Add(a.TraceId); } } },
        };
        ActivitySource.AddActivityListener(listener);
        receiver.Status = 500;
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookBackoff = TimeSpan.FromMilliseconds(100);
        }));
        await app.StartAsync();

        await Eventually.HoldsAsync(() => receiver.Calls.Count >= 2, "the failed webhook is retried");
        receiver.Status = 200;
        var retriedUpTo = receiver.Calls.Count;
        await Eventually.HoldsAsync(() => receiver.Calls.Count > retriedUpTo, "the webhook is called again");
        await Task.Delay(300);
        var settled = receiver.Calls.Count;
        await Task.Delay(300);
        await app.StopAsync();

        Assert.Equal(settled, receiver.Calls.Count);
        Assert.All(receiver.Calls, c => Assert.Equal(("POST", sha), (c.Method, c.Hash)));
        var traceParent = receiver.Calls.First().TraceParent;
        Assert.NotNull(traceParent);
        lock (syncTraces)
        {
            Assert.Contains(syncTraces, t => traceParent!.Contains(t.ToHexString(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task TheNewestRevisionWinsTheQueueOfAFailingHook()
    {
        receiver.Status = 500;
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookBackoff = TimeSpan.FromMilliseconds(200);
        }));
        await app.StartAsync();
        await Eventually.HoldsAsync(() => receiver.Calls.Count(c => c.Hash == first) >= 2, "the first revision's hook is retried");

        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await Eventually.HoldsAsync(() => receiver.Calls.Any(c => c.Hash == second), "the newer revision takes over the queue");
        receiver.Status = 200;
        await Task.Delay(600);
        await app.StopAsync();

        var hashes = receiver.Calls.Select(c => c.Hash).ToList();
        // Once the newer revision is queued, the older one is never called again.
        Assert.DoesNotContain(first, hashes.Skip(hashes.IndexOf(second)));
        Assert.Equal(second, hashes[^1]);
    }

    [Fact]
    public async Task TheWebhookMethodAndSuccessStatusAreThoseGiven()
    {
        receiver.Status = 204;
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));

        await using var app = GitSyncApp.Build(bed.Options(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookMethod = "PUT";
            o.WebhookSuccessStatus = 204;
        }));

        Assert.Equal(0, await GitSyncApp.RunOnceAsync(app));
        Assert.Equal(("PUT", sha), receiver.Calls.Select(c => (c.Method, c.Hash)).Single());
    }

    [Fact]
    public async Task FireAndForgetCallsOnceWhateverTheAnswer()
    {
        receiver.Status = 500;
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookSuccessStatus = 0;
            o.WebhookBackoff = TimeSpan.FromMilliseconds(50);
        }));
        await app.StartAsync();

        await Eventually.HoldsAsync(() => !receiver.Calls.IsEmpty, "the webhook is called");
        await Task.Delay(400);
        await app.StopAsync();

        Assert.Single(receiver.Calls);
        Assert.Equal(sha, receiver.Calls.Single().Hash);
    }

    [Fact]
    public async Task HooksFireAtStartWhenTheRevisionIsAlreadyInPlaceAndForEachNewOne()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        await using var app = GitSyncApp.Build(Looping(o => o.WebhookUrl = receiver.Url));
        await app.StartAsync();

        await Eventually.HoldsAsync(() => receiver.Calls.Any(c => c.Hash == first), "the hook fires for the revision in place");
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await Eventually.HoldsAsync(() => receiver.Calls.Any(c => c.Hash == second), "the hook fires for the new revision");
        await Task.Delay(300);
        await app.StopAsync();

        Assert.Equal<string?>([first, second], receiver.Calls.Select(c => c.Hash).ToList());
    }

    [Fact]
    public async Task TheExechookRunsInTheSnapshotWithTheHash()
    {
        var script = bed.Root.Combine("..", $"hook-{Guid.NewGuid():N}.sh");
        var record = script + ".out";
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho \"$GITSYNC_HASH $(pwd) $(cat index.html)\" >> {record}\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        try
        {
            var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
            await using var app = GitSyncApp.Build(Looping(o => o.ExechookCommand = script));
            await app.StartAsync();

            await Eventually.HoldsAsync(() => File.Exists(record), "the exechook runs");
            await app.StopAsync();

            Assert.Equal($"{sha} {bed.Root.Combine(".worktrees", sha)} one\n", await File.ReadAllTextAsync(record));
        }
        finally
        {
            File.Delete(script);
            File.Delete(record);
        }
    }

    [Fact]
    public async Task OneTimeExitsOneWhenTheExechookFails()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));

        await using var app = GitSyncApp.Build(bed.Options(o => o.ExechookCommand = "/bin/false"));
        Assert.Equal(1, await GitSyncApp.RunOnceAsync(app));

        await using var succeeding = GitSyncApp.Build(bed.Options(o => o.ExechookCommand = "/bin/true"));
        Assert.Equal(0, await GitSyncApp.RunOnceAsync(succeeding));
        Assert.Equal(1, succeeding.Services.GetRequiredService<GitSyncTelemetry>().HookCounts[("exechook", "success")]);
    }

    [Fact]
    public async Task AnExechookThatHangsIsKilledAtItsTimeout()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var script = bed.Root.Combine("..", $"sleepy-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\nexec sleep 30\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        try
        {
            var started = Stopwatch.StartNew();
            await using var app = GitSyncApp.Build(bed.Options(o => { o.ExechookCommand = script; o.ExechookTimeout = TimeSpan.FromMilliseconds(300); }));

            Assert.Equal(1, await GitSyncApp.RunOnceAsync(app));
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(10));
        }
        finally
        {
            File.Delete(script);
        }
    }
}
