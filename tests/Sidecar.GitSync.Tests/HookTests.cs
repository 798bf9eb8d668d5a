using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

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

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private GitSyncOptions Looping(Action<GitSyncOptions> configure) => bed.Options(o =>
    {
        o.OneTime = false;
        o.Period = Period;
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
        var clock = new FakeClock();
        var backoff = TimeSpan.FromSeconds(3);
        receiver.Status = 500;
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookBackoff = backoff;
        }), clock);
        var telemetry = app.Services.GetRequiredService<GitSyncTelemetry>();
        await app.StartAsync();

        await clock.AdvanceAsync(backoff, "the failed webhook waits its backoff");
        await clock.WhenWaitingAsync(backoff, "the retry failed too and waits again");
        Assert.Equal(2, receiver.Calls.Count);
        receiver.Status = 200;
        await clock.AdvanceAsync(backoff, "the webhook is retried once more");
        await Eventually.HoldsAsync(() => telemetry.Totals.HookCounts.GetValueOrDefault(("webhook", "success")) == 1, "the retry succeeds");
        // Nothing is left to retry.
        Assert.False(clock.IsWaiting(backoff));
        await app.StopAsync();

        Assert.Equal(3, receiver.Calls.Count);
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
        var clock = new FakeClock();
        // Longer than the period, so the loop publishes the newer revision while the hook waits to retry.
        var backoff = TimeSpan.FromMinutes(1);
        receiver.Status = 500;
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookBackoff = backoff;
        }), clock);
        var telemetry = app.Services.GetRequiredService<GitSyncTelemetry>();
        await app.StartAsync();
        await clock.AdvanceAsync(backoff, "the first revision's hook failed and waits its backoff");
        await clock.WhenWaitingAsync(backoff, "the first revision's retry failed too");

        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await clock.AdvanceAsync(Period, "the loop waits its period");
        await clock.WhenWaitingAsync(Period, "the loop published the newer revision and waits again");
        Assert.Equal(second, app.Services.GetRequiredService<SyncStatus>().PublishedRevision);
        receiver.Status = 200;
        await clock.AdvanceAsync(backoff, "the hook waits to retry the first revision");
        await Eventually.HoldsAsync(() => telemetry.Totals.HookCounts.GetValueOrDefault(("webhook", "success")) == 1, "the newer revision takes over the queue");
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
        }), new FakeClock());

        Assert.Equal(0, await GitSyncApp.RunOnceAsync(app));
        Assert.Equal(("PUT", sha), receiver.Calls.Select(c => (c.Method, c.Hash)).Single());
    }

    [Fact]
    public async Task AWebhookThatDoesNotAnswerFailsAtItsTimeout()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var silent = await LoopbackEndpoint.StartAsync(context => Task.Delay(Timeout.Infinite, context.RequestAborted));
        var clock = new FakeClock();
        var timeout = TimeSpan.FromSeconds(5);
        await using var app = GitSyncApp.Build(bed.Options(o => { o.WebhookUrl = silent.Url + "/hook"; o.WebhookTimeout = timeout; }), clock);

        var run = GitSyncApp.RunOnceAsync(app);
        await Eventually.HoldsAsync(() => silent.Requests == 1, "the webhook is called");
        // The receiver never answers: the call ends only when the clock passes --webhook-timeout.
        Assert.False(run.IsCompleted);
        await clock.AdvanceAsync(timeout, "the call waits its timeout");

        Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(1, app.Services.GetRequiredService<GitSyncTelemetry>().Totals.HookCounts[("webhook", "error")]);
    }

    [Fact]
    public async Task FireAndForgetCallsOnceWhateverTheAnswer()
    {
        var clock = new FakeClock();
        var backoff = TimeSpan.FromSeconds(3);
        receiver.Status = 500;
        var sha = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await using var app = GitSyncApp.Build(Looping(o =>
        {
            o.WebhookUrl = receiver.Url;
            o.WebhookSuccessStatus = 0;
            o.WebhookBackoff = backoff;
        }), clock);
        var telemetry = app.Services.GetRequiredService<GitSyncTelemetry>();
        await app.StartAsync();

        await Eventually.HoldsAsync(() => !receiver.Calls.IsEmpty, "the webhook is called");
        await Eventually.HoldsAsync(() => telemetry.Totals.HookCounts.GetValueOrDefault(("webhook", "success")) == 1, "the call counts as a success");
        // Nothing waits to call it again.
        Assert.False(clock.IsWaiting(backoff));
        await app.StopAsync();

        Assert.Single(receiver.Calls);
        Assert.Equal(sha, receiver.Calls.Single().Hash);
    }

    [Fact]
    public async Task HooksFireAtStartWhenTheRevisionIsAlreadyInPlaceAndForEachNewOne()
    {
        var first = await bed.Repository.CommitAsync("one", ("index.html", "one"));
        await bed.SyncOnceAsync(bed.Options());
        var clock = new FakeClock();
        await using var app = GitSyncApp.Build(Looping(o => o.WebhookUrl = receiver.Url), clock);
        var synchronizer = app.Services.GetRequiredService<GitSynchronizer>();
        await app.StartAsync();

        await Eventually.HoldsAsync(() => receiver.Calls.Any(c => c.Hash == first), "the hook fires for the revision in place");
        var second = await bed.Repository.CommitAsync("two", ("index.html", "two"));
        await clock.AdvanceAsync(Period, "the loop waits its period");
        await Eventually.HoldsAsync(() => receiver.Calls.Any(c => c.Hash == second), "the hook fires for the new revision");
        var queued = synchronizer.LastHookRequest;
        await clock.AdvanceAsync(Period, "the loop waits its period again");
        await clock.WhenWaitingAsync(Period, "the sync that found nothing new has ended");
        // That sync queued no hook.
        Assert.Same(queued, synchronizer.LastHookRequest);
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
        Assert.Equal(1, succeeding.Services.GetRequiredService<GitSyncTelemetry>().Totals.HookCounts[("exechook", "success")]);
    }

    [Fact]
    public async Task AnExechookThatHangsIsKilledAtItsTimeout()
    {
        await bed.Repository.CommitAsync("one", ("index.html", "one"));
        var script = bed.Root.Combine("..", $"sleepy-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(script, "#!/bin/sh\nexec sleep 600\n");
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        try
        {
            var clock = new FakeClock();
            var timeout = TimeSpan.FromSeconds(30);
            await using var app = GitSyncApp.Build(bed.Options(o => { o.ExechookCommand = script; o.ExechookTimeout = timeout; }), clock);

            var run = GitSyncApp.RunOnceAsync(app);
            await clock.AdvanceAsync(timeout, "the exechook runs and waits its timeout");

            Assert.Equal(1, await run.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.Equal(1, app.Services.GetRequiredService<GitSyncTelemetry>().Totals.HookCounts[("exechook", "error")]);
        }
        finally
        {
            File.Delete(script);
        }
    }
}
