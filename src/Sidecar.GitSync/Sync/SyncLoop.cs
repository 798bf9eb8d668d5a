using System.Runtime.InteropServices;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Git;

namespace Sidecar.GitSync.Sync;

/// <summary>
/// The main loop: sync, wait one period (or until woken by a signal or <c>POST /sync</c>), sync again. Before the
/// first success it waits <c>--init-period</c> and allows <c>--init-max-failures</c>; after it, <c>--period</c>
/// and <c>--max-failures</c>. Exceeding the allowed consecutive failures stops the process with exit code 1.
/// </summary>
public sealed partial class SyncLoop(
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
        LogStarting(RepositoryUrl.ForLogs(options.Repo), options.Ref, options.LinkPath, GoDuration.Format(options.Period));
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
                    LogGivingUp(failures, flag, limit, outcome.Error);
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
        LogSignalRegistered(options.SyncOnSignal);
        return PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            LogSignalReceived(options.SyncOnSignal);
            trigger.Wake();
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Syncing {Repo} at {Ref} into {Link} every {Period}")]
    private partial void LogStarting(string repo, string @ref, string link, string period);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Giving up after {Failures} consecutive failed sync(s), more than {Flag}={Limit}; last error: {Error}")]
    private partial void LogGivingUp(int failures, string flag, int limit, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signal {Signal} starts a sync")]
    private partial void LogSignalRegistered(string signal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Received {Signal}: syncing now")]
    private partial void LogSignalReceived(string signal);
}
