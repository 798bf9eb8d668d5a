using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Polly;
using Polly.Telemetry;

namespace Microsoft.Extensions.Hosting;

// The standard Aspire service defaults: OTLP telemetry, health checks, service discovery and resilience.
public static class Extensions
{
    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

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
        // Added to the filter of AddAspNetCoreInstrumentation (which configures the same options first), so only the
        // service that asks pays for the check, and with no service lookup per request.
        var untraced = new UntracedRequests(paths);
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(options =>
        {
            var filter = options.Filter;
            options.Filter = context => (filter is null || filter(context)) && !untraced.Matches(context.Request);
        });
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
                .AddAspNetCoreInstrumentation(options =>
                    // Health probes and polls would drown the traces of real work.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());

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

/// <summary>Polled paths whose GET and HEAD requests are not traced (see <see cref="Extensions.ExcludeFromTraces"/>).</summary>
public sealed class UntracedRequests(IEnumerable<string> paths)
{
    private readonly HashSet<string> paths = new(paths, StringComparer.OrdinalIgnoreCase);

    public bool Matches(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && paths.Contains(request.Path.Value ?? "/");
}
