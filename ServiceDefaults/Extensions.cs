using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Polly;
using Polly.Telemetry;

namespace Microsoft.Extensions.Hosting;

// The standard Aspire service defaults: OTLP telemetry, health checks, service discovery and resilience.
public static class Extensions
{
    internal const string HealthEndpointPath = "/health";
    internal const string AlivenessEndpointPath = "/alive";

    // Every Sidecar service names its ActivitySource and Meter "Sidecar.<Service>".
    private const string SidecarTelemetryPrefix = "Sidecar.*";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        builder.Services.Configure<TelemetryOptions>(QuietResilienceLogs);
        return builder;
    }

    /// <summary>
    /// Polly logs every attempt of every HTTP call at Information (with OTLP export, a line a second) and can log
    /// a tripped breaker at Error: attempts go to Debug and no resilience event is louder than Warning, so a
    /// service's own failures stay the loudest lines of its console.
    /// </summary>
    public static void QuietResilienceLogs(TelemetryOptions options) =>
        options.SeverityProvider = args => args.Event.EventName == "ExecutionAttempt"
            ? ResilienceEventSeverity.Debug
            : args.Event.Severity > ResilienceEventSeverity.Warning ? ResilienceEventSeverity.Warning : args.Event.Severity;

    /// <summary>
    /// Leaves GET and HEAD requests for exactly these paths out of the traces, as /health and /alive are: endpoints that
    /// orchestrators, dashboards and scrapers poll every few seconds (their metrics are still recorded).
    /// </summary>
    public static TBuilder ExcludeFromTraces<TBuilder>(this TBuilder builder, params string[] paths) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.Configure<UntracedRequestOptions>(options => options.Paths.UnionWith(paths));
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(SidecarTelemetryPrefix))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(SidecarTelemetryPrefix)
                // ASP.NET Core's own request activities, named and tagged by RequestSpans (see there why not by
                // OpenTelemetry's ASP.NET Core trace instrumentation).
                .AddSource(RequestSpans.ActivitySourceName)
                .AddHttpClientInstrumentation());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupFilter, RequestSpansStartupFilter>());

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var useOtlpExporter = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (useOtlpExporter)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }
        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains("live")
        });
        return app;
    }
}
