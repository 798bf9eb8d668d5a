using Microsoft.AspNetCore.Hosting.Server;

namespace Sidecar.GitSync;

/// <summary>Builds the sidecar from its options; Program runs it, tests host it on loopback.</summary>
public static class GitSyncApp
{
    public static WebApplication Build(GitSyncOptions options)
    {
        // The ASP.NET Core configuration is not given the command line: the flags are git-sync's.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = GitSyncTelemetry.Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GitSyncTelemetry>();
        builder.Services.AddSingleton<SyncStatus>();
        builder.Services.AddSingleton<SnapshotWriter>();
        builder.Services.AddSingleton<SnapshotPublisher>();
        builder.Services.AddSingleton<GitSynchronizer>();
        if (!options.OneTime)
        {
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

        var app = builder.Build();
        app.MapReadiness();
        return app;
    }

    /// <summary>Runs one sync and returns git-sync's exit code: 0 on success, 1 on failure.</summary>
    public static async Task<int> RunOnceAsync(WebApplication app)
    {
        var result = await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);
        return result.Outcome == SyncOutcome.Error ? 1 : 0;
    }
}
