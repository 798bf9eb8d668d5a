using System.Runtime.InteropServices;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Sync;

/// <summary>
/// The main loop: sync, wait one period (or until woken by a signal or <c>POST /sync</c>), sync again. Before the
/// first success it waits <c>--init-period</c> and allows <c>--init-max-failures</c>; after it, <c>--period</c>
/// and <c>--max-failures</c>. Exceeding the allowed consecutive failures stops the process with exit code 1.
/// </summary>
public sealed class SyncLoop(
    GitSyncOptions options,
    GitSynchronizer synchronizer,
    SyncTrigger trigger,
    SyncStatus status,
    IHostApplicationLifetime lifetime,
    ILogger<SyncLoop> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Syncing {Repo} at {Ref} into {Link} every {Period}",
            GitSynchronizer.RepoForLogs(options.Repo), options.Ref, options.LinkPath, GoDuration.Format(options.Period));
        using var signal = RegisterSignal();
        var succeededOnce = false;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var callers = trigger.TakeWaiting();
            var result = await synchronizer.SyncAsync(stoppingToken).ContinueWith(t => t, TaskScheduler.Default);
            if (result.IsCanceled || stoppingToken.IsCancellationRequested)
            {
                callers.ForEach(c => c.TrySetCanceled());
                break;
            }
            var outcome = result.GetAwaiter().GetResult();
            callers.ForEach(c => c.TrySetResult(outcome));
            if (outcome.Outcome == SyncOutcome.Error)
            {
                failures++;
                var (limit, flag) = succeededOnce || options.InitMaxFailures is null
                    ? (options.MaxFailures, "--max-failures")
                    : (options.InitMaxFailures.Value, "--init-max-failures");
                if (limit >= 0 && failures > limit)
                {
                    logger.LogCritical("Giving up after {Failures} consecutive failed sync(s), more than {Flag}={Limit}; last error: {Error}",
                        failures, flag, limit, outcome.Error);
                    status.ExitCode = 1;
                    lifetime.StopApplication();
                    return;
                }
            }
            else
            {
                failures = 0;
                succeededOnce = true;
            }
            var period = succeededOnce ? options.Period : options.InitPeriod ?? options.Period;
            await trigger.WaitAsync(period, stoppingToken);
        }
    }

    private PosixSignalRegistration? RegisterSignal()
    {
        if (SyncSignal.TryParse(options.SyncOnSignal) is not { } signal)
        {
            return null;
        }
        logger.LogInformation("Signal {Signal} starts a sync", options.SyncOnSignal);
        return PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            logger.LogInformation("Received {Signal}: syncing now", options.SyncOnSignal);
            trigger.Wake();
        });
    }
}
