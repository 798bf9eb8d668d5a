using Aspire.Hosting.Testing;
using Sidecar.Tests;

namespace Sidecar.AppHost.Tests;

/// <summary>The services' telemetry, exported by their real OTLP exporters, as it reaches a collector.</summary>
[Trait("Category", "AppHost")]
public sealed class TelemetryTests
{
    [Fact]
    public async Task TracesAndMetricsOfBothServicesReachTheCollector()
    {
        await using var collector = await OtlpCollector.StartAsync();
        using var data = new TempFolder("sidecar-telemetry");
        await using var app = await AppHostFixture.StartAsync(data, "1s", collector);
        using var web = app.CreateHttpClient("web");
        Assert.Contains("Sidecar demo site", await web.GetStringAsync("/"));

        string Describe() => $"collected spans: {string.Join(", ", collector.Spans.Select(s => $"{s.Service}/{s.Name}").Distinct())}; " +
            $"metrics: {string.Join(", ", collector.Metrics.Select(m => $"{m.Service}/{m.Name}").Distinct())}";
        await AppHostFixture.WaitUntilAsync(() =>
            collector.Spans.Any(s => s.Service == "sync" && s.Name == "sync")
            // The request above, as ASP.NET Core's activity named by the service defaults (every request is traced in Development).
            && collector.Spans.Any(s => s.Service == "web" && s.Scope == "Microsoft.AspNetCore" && s.Name == "GET")
            && collector.Metrics.Any(m => m.Service == "sync" && m.Name == "gitsync.syncs")
            && collector.Metrics.Any(m => m.Service == "sync" && m.Name == "gitsync.revision.age")
            && collector.Metrics.Any(m => m.Service == "sync" && m.Name == "gitsync.sync.duration")
            && collector.Metrics.Any(m => m.Service == "web" && m.Name == "http.server.request.duration"),
            TimeSpan.FromSeconds(60), Describe);

        // One trace per sync, with its steps as child spans.
        var sync = collector.Spans.First(s => s.Service == "sync" && s.Name == "sync");
        Assert.Contains(collector.Spans, s => s.Name == "fetch" && s.TraceId == sync.TraceId && s.ParentSpanId == sync.SpanId);
        var syncs = collector.Metrics.First(m => m.Name == "gitsync.syncs");
        Assert.Equal("{sync}", syncs.Unit);
        Assert.False(string.IsNullOrEmpty(syncs.Description));
        Assert.Equal("s", collector.Metrics.First(m => m.Name == "gitsync.revision.age").Unit);
        Assert.Equal("s", collector.Metrics.First(m => m.Name == "gitsync.sync.duration").Unit);

        // The dashboard's health check has polled GET /status by now (sync is healthy): polls are not traced.
        Assert.DoesNotContain(collector.Spans, s => s.Service == "sync" && s.Name.StartsWith("GET", StringComparison.Ordinal));
    }
}
