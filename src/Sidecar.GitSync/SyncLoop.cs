namespace Sidecar.GitSync;

/// <summary>The main loop: sync, wait one period, sync again, until the process stops.</summary>
public sealed class SyncLoop(GitSyncOptions options, GitSynchronizer synchronizer, TimeProvider timeProvider, ILogger<SyncLoop> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Syncing {Repo} at {Ref} into {Link} every {Period}",
            GitSynchronizer.RepoForLogs(options.Repo), options.Ref, options.LinkPath, GoDuration.Format(options.Period));
        while (!stoppingToken.IsCancellationRequested)
        {
            await synchronizer.SyncAsync(stoppingToken);
            try
            {
                await Task.Delay(options.Period, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
