using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>Secrets given to the app are used (the webhook and "Sync now" work) and appear in no log line and no telemetry.</summary>
[Trait("Category", "AppHost")]
public sealed class SecretExposureTests
{
    private const string SyncSecret = "known-sync-secret-3b9f0c";
    private const string WebhookSecret = "known-webhook-secret-81d2e4";

    [Fact]
    public async Task KnownSecretsAppearInNoConsoleLineAndNoExportedTelemetry()
    {
        await using var collector = await OtlpCollector.StartAsync();
        using var data = new TempFolder("sidecar-secrets");
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--Sidecar:DataDirectory={data.Path}", "--Parameters:period=1h",
             $"--Parameters:sync-webhook-secret={SyncSecret}", $"--Parameters:web-revision-webhook-secret={WebhookSecret}"]);
        AppHostFixture.ExportTelemetryTo(builder, collector);
        await using var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("web", timeout.Token);
        await using var logs = await ConsoleLogs.WatchAsync(app, timeout.Token, "origin", "sync", "web");

        // "Sync now" presents the sync secret; the publish it causes calls the web server's webhook with the other one.
        var (pushed, marker) = await EndToEndTests.PushChangeAsync(app, data);
        var result = await app.ResourceCommands.ExecuteCommandAsync("sync", GitSyncResource.SyncNowCommandName);
        Assert.True(result.Success, result.Message);
        using var web = app.CreateHttpClient("web");
        // The server reads the link only when an accepted webhook tells it to: serving the push proves the header was accepted.
        await AppHostFixture.WaitUntilAsync(() => web.GetStringAsync("/").Result.Contains(marker), TimeSpan.FromSeconds(20),
            () => $"the pushed revision {pushed} was not served; sync's console: {string.Join("\n", logs.Of("sync"))}");
        await AppHostFixture.WaitUntilAsync(
            () => collector.Spans.Any(s => s.Service == "sync" && s.Name == "webhook") && collector.Spans.Any(s => s.Service == "web" && s.Name == "revision switch")
                && logs.Of("sync").Any(l => l.Contains("Webhook", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), () => $"spans: {string.Join(", ", collector.Spans.Select(s => $"{s.Service}/{s.Name}").Distinct())}");
        // A request that presents a wrong secret is logged too, if anything logs it.
        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/_sidecar/revision");
        wrong.Headers.Add("Authorization", $"Bearer {WebhookSecret}x");
        wrong.Headers.Add("Gitsync-Hash", pushed);
        await web.SendAsync(wrong);
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.NotEmpty(logs.Lines);
        Assert.NotEmpty(collector.Payloads);
        foreach (var secret in new[] { SyncSecret, WebhookSecret })
        {
            Assert.DoesNotContain(logs.Lines, l => l.Line.Contains(secret, StringComparison.Ordinal));
            Assert.False(collector.Holds(secret), $"the telemetry holds {secret}");
        }
    }
}
