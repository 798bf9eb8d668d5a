using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>Starts the real AppHost (demo origin, sidecar, web) in a temp data folder, optionally exporting telemetry to a collector.</summary>
public static class AppHostFixture
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);

    public static async Task<DistributedApplication> StartAsync(TempFolder data, string period, OtlpCollector? collector = null, params string[] extraArgs)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--Sidecar:DataDirectory={data.Path}", $"--Parameters:period={period}", .. extraArgs]);
        if (collector is not null)
        {
            ExportTelemetryTo(builder, collector);
        }
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("web", timeout.Token);
        return app;
    }

    /// <summary>Points every project's real OTLP exporter at the collector, exporting often.</summary>
    public static void ExportTelemetryTo(IDistributedApplicationTestingBuilder builder, OtlpCollector collector)
    {
        foreach (var resource in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(resource)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", collector.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200")
                .WithEnvironment("OTEL_BLRP_SCHEDULE_DELAY", "200")
                .WithEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "500");
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, describe());
            await Task.Delay(200);
        }
    }
}
