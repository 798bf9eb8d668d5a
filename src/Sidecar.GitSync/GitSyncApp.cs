using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Hosting.Server;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;
using Sidecar.GitSync.Hooks;
using Sidecar.GitSync.Http;
using Sidecar.GitSync.Snapshots;
using Sidecar.GitSync.Sync;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync;

/// <summary>Builds the sidecar from its options; Program runs it, tests host it on loopback.</summary>
public static partial class GitSyncApp
{
    /// <param name="options">The validated options.</param>
    /// <param name="timeProvider">The clock every wait and timeout runs on; the system clock when null (tests pass a fake one).</param>
    public static WebApplication Build(GitSyncOptions options, TimeProvider? timeProvider = null)
    {
        // The ASP.NET Core configuration is not given the command line: the flags are git-sync's.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = GitSyncTelemetry.Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddServiceDefaults();
        // Readiness probes, the dashboard's health check and Prometheus scrapes poll these; POST /sync stays traced.
        builder.ExcludeFromTraces("/", "/status", "/metrics");
        ApplyVerbosity(builder.Logging, options.Verbosity);
        if (options.GroupWrite)
        {
            // git's "shared repository": everything this process creates is group-writable.
            _ = umask(0b000_000_010);
        }
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(timeProvider ?? TimeProvider.System);
        builder.Services.AddSingleton<GitSyncTelemetry>();
        builder.Services.AddSingleton<SyncStatus>();
        builder.Services.AddSingleton<SyncTrigger>();
        builder.Services.AddSingleton<SnapshotWriter>();
        builder.Services.AddSingleton<SnapshotPublisher>();
        builder.Services.AddSingleton<ErrorFile>();
        builder.Services.AddSingleton<TouchFile>();
        builder.Services.AddSingleton<CredentialRefresh>();
        builder.Services.AddSingleton<SignatureVerification.RevisionSignatureVerifier>();
        builder.Services.AddSingleton<SignatureVerification.SignatureGate>();
        builder.Services.AddSingleton<GitSynchronizer>();
        if (options.WebhookUrl.Length > 0)
        {
            builder.Services.AddSingleton<IPublishHook, Webhook>();
        }
        if (options.ExechookCommand.Length > 0)
        {
            builder.Services.AddSingleton<IPublishHook, Exechook>();
        }
        builder.Services.AddSingleton<PublishHooks>();
        if (!options.OneTime)
        {
            builder.Services.AddHostedService(s => s.GetRequiredService<PublishHooks>());
            builder.Services.AddHostedService<SyncLoop>();
        }
        if (HttpBindAddress.TryParse(options.HttpBind) is { } bind)
        {
            builder.WebHost.UseUrls(bind.Url);
        }
        else
        {
            // No --http-bind: no listener at all, as git-sync.
            builder.Services.AddSingleton<IServer, NoServer>();
        }

        // git-sync trusts every repository (safe.directory=*) unless --git-config names others; libgit2 checks the owner.
        LibGit2Sharp.GlobalSettings.SetOwnerValidation(!options.GitConfigSettings.TrustsOwnerOf(options.Root));

        var app = builder.Build();
        var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(GitSyncTelemetry.Name + ".Startup");
        foreach (var notice in options.StartupNotices)
        {
            LogNotice(startup, notice);
        }
        app.MapReadiness();
        app.MapStatus();
        app.MapSyncNow();
        if (options.HttpMetrics)
        {
            app.MapPrometheusMetrics();
        }
        return app;
    }

    /// <summary>Runs one sync, then its hooks once, and returns git-sync's exit code: 0 when all succeeded, 1 otherwise.</summary>
    public static async Task<int> RunOnceAsync(WebApplication app)
    {
        var synchronizer = app.Services.GetRequiredService<GitSynchronizer>();
        var result = await synchronizer.SyncAsync(CancellationToken.None);
        if (result.Outcome == SyncOutcome.Error)
        {
            return 1;
        }
        if (synchronizer.LastHookRequest is { } hooks
            && !await app.Services.GetRequiredService<PublishHooks>().RunOnceAsync(hooks, CancellationToken.None))
        {
            return 1;
        }
        return 0;
    }

    // -v as git-sync reads it: 0 logs updates and errors, 2 each sync's decisions, 5 and up everything.
    private static void ApplyVerbosity(ILoggingBuilder logging, int verbosity)
    {
        var level = verbosity switch
        {
            0 or 1 => LogLevel.Information,
            < 5 => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        logging.AddFilter(GitSyncTelemetry.Name, level);
        logging.AddFilter("Microsoft", verbosity >= 5 ? LogLevel.Debug : LogLevel.Warning);
        logging.AddFilter("System", verbosity >= 5 ? LogLevel.Debug : LogLevel.Warning);
    }

    // .NET sets modes per file (UnixFileMode), not the process umask that libgit2 and hooks inherit.
    [LibraryImport("libc")]
    private static partial uint umask(uint mask);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Notice}")]
    private static partial void LogNotice(ILogger logger, string notice);
}
