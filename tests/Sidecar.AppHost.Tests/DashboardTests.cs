using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>What the dashboard shows and does: the "Sync now" command, the sidecar's revision and health, one trace per publish.</summary>
[Trait("Category", "AppHost")]
public sealed class DashboardTests
{
    // Long enough that only the command syncs during a test.
    private const string NoPolling = "1h";

    [Fact]
    public async Task SyncNowPublishesAPushAtOnceAndOneTraceFollowsItIntoTheWebServer()
    {
        await using var collector = await OtlpCollector.StartAsync();
        using var data = new TempFolder("sidecar-dashboard");
        await using var app = await AppHostFixture.StartAsync(data, NoPolling, collector);
        using var web = app.CreateHttpClient("web");
        var (pushed, marker) = await EndToEndTests.PushChangeAsync(app, data);
        Assert.DoesNotContain(marker, await web.GetStringAsync("/"));

        var result = await app.ResourceCommands.ExecuteCommandAsync("sync", GitSyncResource.SyncNowCommandName);

        Assert.True(result.Success, result.Message);
        // The command returns once the revision is published; the web server, which checks the link
        // only when the sidecar's webhook announces a revision, serves it as soon as that arrives.
        var (body, revision) = await ServedWithinAsync(web, marker, TimeSpan.FromSeconds(5));
        Assert.Contains(marker, body);
        Assert.Equal(pushed, revision);

        // The revision is shown on the sidecar resource.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.ResourceNotifications.WaitForResourceAsync("sync",
            e => e.Snapshot.Properties.Any(p => p.Name == "gitsync.revision" && Equals(p.Value, pushed)), timeout.Token);

        // The sidecar's sync, its webhook and the web server's revision switch are one trace. The three
        // spans come from two processes' batch exporters, and the webhook span ends only after the web
        // server has answered, so each can arrive last: wait for all three.
        await AppHostFixture.WaitUntilAsync(
            () => collector.Spans.Any(s => s.Service == "web" && s.Name == "revision switch"
                && collector.Spans.Any(p => p.Service == "sync" && p.Name == "sync" && p.TraceId == s.TraceId)
                && collector.Spans.Any(h => h.Service == "sync" && h.Name == "webhook" && h.TraceId == s.TraceId)),
            TimeSpan.FromSeconds(30),
            () => $"spans: {string.Join(", ", collector.Spans.Select(s => $"{s.Service}/{s.Name}/{s.TraceId[..8]}").Distinct())}");
    }

    private static async Task<(string Body, string Revision)> ServedWithinAsync(HttpClient web, string marker, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            using var response = await web.GetAsync("/");
            var body = await response.Content.ReadAsStringAsync();
            if (body.Contains(marker) || DateTime.UtcNow > deadline)
            {
                return (body, response.Headers.GetValues("X-Content-Revision").Single());
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task TheSidecarTurnsDegradedWhenSyncsFailAndTheLastGoodRevisionStaysServed()
    {
        using var data = new TempFolder("sidecar-degraded");
        await using var app = await AppHostFixture.StartAsync(data, NoPolling);
        using var web = app.CreateHttpClient("web");
        using var healthy = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("sync", healthy.Token);
        var served = await web.GetStringAsync("/");

        // The origin loses its repository: every sync from now on fails.
        Directory.Move(data.Combine("origin", "site.git"), data.Combine("origin", "moved.git"));
        var result = await app.ResourceCommands.ExecuteCommandAsync("sync", GitSyncResource.SyncNowCommandName);

        Assert.False(result.Success);
        using var degraded = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ResourceEvent state;
        try
        {
            state = await app.ResourceNotifications.WaitForResourceAsync("sync", e => e.Snapshot.HealthStatus == HealthStatus.Degraded, degraded.Token);
        }
        catch (OperationCanceledException)
        {
            app.ResourceNotifications.TryGetCurrentState("sync", out var current);
            Assert.Fail($"sync did not turn degraded: {current?.Snapshot.HealthStatus}; " +
                string.Join("; ", current?.Snapshot.HealthReports.Select(r => $"{r.Name}={r.Status} {r.Description} {r.ExceptionText}") ?? []) +
                "; " + string.Join("; ", current?.Snapshot.Properties.Where(p => p.Name.StartsWith("gitsync")).Select(p => $"{p.Name}={p.Value}") ?? []));
            throw;
        }
        Assert.Contains(state.Snapshot.Properties, p => p.Name == "gitsync.last_outcome" && Equals(p.Value, "error"));
        Assert.Equal(served, await web.GetStringAsync("/"));
    }

    [Fact]
    public async Task NothingPublishedMeansAnUnhealthySidecarAndAWebServerThatWaits()
    {
        using var data = new TempFolder("sidecar-unpublished");
        // Nothing listens on the discard port: every sync fails, nothing is ever published.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--Sidecar:DataDirectory={data.Path}", "--Parameters:repo=http://127.0.0.1:9/missing.git", "--Parameters:period=1s"]);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        // Starting completes only when every resource has started, and the web server never does here.
        var starting = app.StartAsync(timeout.Token);

        var sync = await app.ResourceNotifications.WaitForResourceAsync("sync",
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Unhealthy
                && e.Snapshot.HealthReports.Any(r => r.Description?.Contains("no revision published yet") == true),
            timeout.Token);
        Assert.NotNull(sync);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(app.ResourceNotifications.TryGetCurrentState("web", out var web));
        Assert.Equal(KnownResourceStates.Waiting, web.Snapshot.State?.Text);
        Assert.False(starting.IsCompleted);
    }
}
