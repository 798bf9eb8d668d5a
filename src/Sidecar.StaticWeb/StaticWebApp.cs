using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Sidecar.StaticWeb.Files;
using Sidecar.StaticWeb.Http;
using Sidecar.StaticWeb.Revisions;
using Sidecar.StaticWeb.Settings;
using Sidecar.StaticWeb.Telemetry;

namespace Sidecar.StaticWeb;

/// <summary>Builds the static web server; Program runs it, tests host it on loopback.</summary>
public static class StaticWebApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // --root is short for StaticWeb:Root.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string> { ["--root"] = "StaticWeb:Root" });
        builder.AddServiceDefaults();
        builder.Services.AddOptions<StaticWebOptions>()
            .Configure<IConfiguration>((_, configuration) =>
            {
                if (StaticWebOptionsValidator.RevisionCheckError(configuration[$"{StaticWebOptions.Section}:{nameof(StaticWebOptions.RevisionCheck)}"]) is { } error)
                {
                    throw new OptionsValidationException(StaticWebOptions.Section, typeof(StaticWebOptions), [error]);
                }
            })
            .BindConfiguration(StaticWebOptions.Section)
            .PostConfigure(o => o.IndexFiles = o.IndexFiles.Length == 0 ? ["index.html"] : o.IndexFiles)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StaticWebOptions>, StaticWebOptionsValidator>();
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<StaticWebOptions>>((kestrel, options) =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = options.Value.MaxRequestLineBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = options.Value.MaxRequestHeadersBytes;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.Value.RequestHeadersTimeoutSeconds);
            // Only GET, HEAD and a bodiless webhook are served.
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
        });

        builder.Services.AddOptions<SocketTransportOptions>().Configure<IOptions<StaticWebOptions>>((sockets, options) =>
        {
            sockets.UnsafePreferInlineScheduling = options.Value.InlineSocketScheduling;
            sockets.WaitForDataBeforeAllocatingBuffer = options.Value.WaitForDataBeforeAllocatingBuffer;
        });

        // OpenTelemetry's own sampler setting, when given, stays in charge.
        if (string.IsNullOrEmpty(builder.Configuration["OTEL_TRACES_SAMPLER"]))
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.SetSampler(services =>
                new StaticWebSampler(StaticWebSampler.RatioFor(
                    services.GetRequiredService<IOptions<StaticWebOptions>>().Value,
                    services.GetRequiredService<IHostEnvironment>()))));
        }
        builder.Services.AddSingleton<StaticWebTelemetry>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ContentRoot>();
        builder.Services.AddSingleton<RevisionTracker>();
        builder.Services.AddSingleton<ContentHashETags>();
        builder.Services.AddSingleton<WebContentTypes>();
        builder.Services.AddSingleton<CacheControlPolicy>();
        builder.Services.AddSingleton<SecurityHeaders>();
        builder.Services.AddSingleton<FileEntryLoader>();
        builder.Services.AddSingleton<FileResponseWriter>();
        builder.Services.AddSingleton<DirectoryListingPage>();
        builder.Services.AddSingleton<StaticSiteHandler>();
        builder.Services.AddSingleton<RevisionWebhook>();
        builder.Services.AddHealthChecks().AddCheck<ContentPublishedHealthCheck>("content");

        var app = builder.Build();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            if (app.Services.GetRequiredService<IOptions<StaticWebOptions>>().Value.ReleaseStartupMemory)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static _ => ReleaseStartupMemory(), null);
            }
        });
        // Site requests skip endpoint routing: it only serves the health endpoints and the webhook.
        StaticSiteHandler? site = null;
        app.Use((context, next) => IsServerPath(context.Request)
            ? next(context)
            : (site ??= context.RequestServices.GetRequiredService<StaticSiteHandler>()).HandleAsync(context));
        app.UseRouting();
        // Whatever no endpoint claims (e.g. /health/x) is a site path after all.
        app.Use((context, next) => context.GetEndpoint() is null
            ? (site ??= context.RequestServices.GetRequiredService<StaticSiteHandler>()).HandleAsync(context)
            : next(context));
        app.MapDefaultEndpoints();
        // Resolved at the first request, so bad settings fail at start (ValidateOnStart), not here.
        RevisionWebhook? webhook = null;
        app.MapPost(RevisionWebhook.Path, context => (webhook ??= context.RequestServices.GetRequiredService<RevisionWebhook>()).HandleAsync(context));
        return app;
    }

    // Most of what starting up allocated is garbage by now; a compacting collection that decommits the freed memory gives it back
    // to the system instead of keeping it until load comes (StaticWeb:ReleaseStartupMemory, docs/staticweb.md).
    private static void ReleaseStartupMemory() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    // The server's own paths; they shadow site files of the same names.
    private static bool IsServerPath(HttpRequest request) =>
        request.Path.StartsWithSegments("/health") || request.Path.StartsWithSegments("/alive")
        || (HttpMethods.IsPost(request.Method) && request.Path.StartsWithSegments(RevisionWebhook.Path));
}
