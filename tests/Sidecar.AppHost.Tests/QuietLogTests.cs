using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>What a user reads in the sidecar's console: its own failures, not the plumbing of every HTTP call.</summary>
[Trait("Category", "AppHost")]
public sealed class QuietLogTests
{
    [Fact]
    public async Task AFailedSyncIsTheLoudestLineOfTheSidecarsConsoleAndNoResilienceAttemptIsLogged()
    {
        // Telemetry is exported over HTTP every half second, through the resilience handler of the service defaults.
        await using var collector = await OtlpCollector.StartAsync();
        using var data = new TempFolder("sidecar-quiet");
        // Nothing listens on the discard port: every sync fails.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--Sidecar:DataDirectory={data.Path}", "--Parameters:repo=http://127.0.0.1:9/missing.git", "--Parameters:period=1s"]);
        AppHostFixture.ExportTelemetryTo(builder, collector);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        // Starting completes only when every resource has started, and the web server never does here.
        _ = app.StartAsync(timeout.Token);
        await using var logs = await ConsoleLogs.WatchAsync(app, timeout.Token, "sync");

        await AppHostFixture.WaitUntilAsync(
            () => logs.Of("sync").Count(l => l.Contains("failed", StringComparison.Ordinal) && l.Contains("missing.git", StringComparison.Ordinal)) >= 3
                && collector.Metrics.Any(m => m.Service == "sync") && collector.Spans.Any(s => s.Service == "sync"),
            TimeSpan.FromSeconds(90), () => $"sync's console: {string.Join("\n", logs.Of("sync"))}");
        // Several more export rounds, each of which used to log a "Polly[3] Execution attempt" line.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var lines = logs.Of("sync").ToList();
        Assert.DoesNotContain(lines, l => l.Contains("Polly", StringComparison.Ordinal) || l.Contains("Execution attempt", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => ConsoleLogs.LevelOf(l) == "crit");
        // Every fail: line (the console logger puts the message on the next line) is a failed sync. A fail:
        // line that is the last one seen may still be waiting for its message line, so it is left out.
        var failures = lines.Select((line, i) => (line, next: i + 1 < lines.Count ? lines[i + 1] : null))
            .Where(l => ConsoleLogs.LevelOf(l.line) == "fail" && l.next is not null).ToList();
        Assert.True(failures.Count > 0, $"no fail: line in sync's console: {string.Join("\n", lines)}");
        Assert.All(failures, f => Assert.Contains("Sync of http://127.0.0.1:9/missing.git", f.line + f.next));
    }
}
