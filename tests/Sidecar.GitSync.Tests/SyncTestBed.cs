using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Sidecar.Tests;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Sync;

namespace Sidecar.GitSync.Tests;

/// <summary>A git origin on loopback, one repository in it, and a root folder to sync into.</summary>
public sealed class SyncTestBed : IAsyncDisposable
{
    private SyncTestBed(GitOrigin origin, OriginRepository repository)
    {
        Origin = origin;
        Repository = repository;
    }

    public GitOrigin Origin { get; }

    public OriginRepository Repository { get; }

    public TempFolder Root { get; } = new("sidecar-root");

    public static async Task<SyncTestBed> StartAsync()
    {
        var origin = await GitOrigin.StartAsync();
        return new SyncTestBed(origin, await origin.CreateRepositoryAsync("site"));
    }

    public GitSyncOptions Options(Action<GitSyncOptions>? configure = null)
    {
        var options = new GitSyncOptions { Repo = Repository.Url, Root = Root.Path, Link = "current", OneTime = true };
        configure?.Invoke(options);
        Assert.Empty(GitSyncCommandLine.Validate(options));
        return options;
    }

    /// <summary>Runs one sync in a sidecar built as the process builds it, on <paramref name="clock"/> when given.</summary>
    public async Task<SyncResult> SyncOnceAsync(GitSyncOptions options, TimeProvider? clock = null)
    {
        await using var app = GitSyncApp.Build(options, clock);
        return await app.Services.GetRequiredService<GitSynchronizer>().SyncAsync(CancellationToken.None);
    }

    public string LinkPath => Root.Combine("current");

    public string? LinkTarget => new FileInfo(LinkPath).LinkTarget;

    public string[] Snapshots => Directory.Exists(Root.Combine(".worktrees"))
        ? Directory.GetFileSystemEntries(Root.Combine(".worktrees")).Select(p => Path.GetFileName(p)!).ToArray()
        : [];

    public async ValueTask DisposeAsync()
    {
        await Origin.DisposeAsync();
        Root.Dispose();
    }
}
