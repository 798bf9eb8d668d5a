using System.Diagnostics;
using System.Threading.Channels;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Hooks;

/// <summary>Something to run after a revision is published: <c>--webhook-url</c> or <c>--exechook-command</c>.</summary>
public interface IPublishHook
{
    /// <summary>The hook's name in logs and metrics: <c>webhook</c> or <c>exechook</c>.</summary>
    string Name { get; }

    TimeSpan Backoff { get; }

    /// <summary>Runs the hook once for <paramref name="sha"/>; true when it succeeded.</summary>
    Task<bool> RunAsync(string sha, ActivityContext syncTrace, CancellationToken cancellationToken);
}

/// <summary>A request to run the hooks for a published revision, in the trace of the sync that published it.</summary>
public sealed record HookRequest(string Sha, ActivityContext SyncTrace);

/// <summary>
/// One queue per hook: the newest revision wins (an older one still waiting is dropped), and a failed run is
/// tried again after the hook's backoff unless a newer revision has arrived meanwhile.
/// </summary>
public sealed partial class PublishHooks(IEnumerable<IPublishHook> hooks, GitSyncTelemetry telemetry, TimeProvider timeProvider, ILogger<PublishHooks> logger) : BackgroundService
{
    private readonly List<(IPublishHook Hook, Channel<HookRequest> Queue)> queues = hooks
        .Select(h => (h, Channel.CreateBounded<HookRequest>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest })))
        .ToList();

    public bool Any => queues.Count > 0;

    public void Enqueue(HookRequest request)
    {
        foreach (var (_, queue) in queues)
        {
            queue.Writer.TryWrite(request);
        }
    }

    /// <summary>For <c>--one-time</c>: runs every hook once, as git-sync does, and says whether all succeeded.</summary>
    public async Task<bool> RunOnceAsync(HookRequest request, CancellationToken cancellationToken)
    {
        var succeeded = true;
        foreach (var (hook, _) in queues)
        {
            succeeded &= await RunAsync(hook, request, cancellationToken);
        }
        return succeeded;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(queues.Select(q => Task.Run(() => DrainAsync(q.Hook, q.Queue.Reader, stoppingToken), stoppingToken)));

    private async Task DrainAsync(IPublishHook hook, ChannelReader<HookRequest> reader, CancellationToken stoppingToken)
    {
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                if (!reader.TryRead(out var request))
                {
                    continue;
                }
                while (!await RunAsync(hook, request, stoppingToken))
                {
                    await Task.Delay(hook.Backoff, timeProvider, stoppingToken);
                    if (reader.TryPeek(out _))
                    {
                        LogSuperseded(hook.Name, request.Sha);
                        break;
                    }
                    LogRetrying(hook.Name, request.Sha);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> RunAsync(IPublishHook hook, HookRequest request, CancellationToken cancellationToken)
    {
        bool succeeded;
        try
        {
            succeeded = await hook.RunAsync(request.Sha, request.SyncTrace, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogHookFailed(e, hook.Name, request.Sha, e.Message);
            succeeded = false;
        }
        telemetry.RecordHook(hook.Name, succeeded);
        return succeeded;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Hook} for {Revision} is not retried: a newer revision is waiting")]
    private partial void LogSuperseded(string hook, string revision);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying the {Hook} for {Revision}")]
    private partial void LogRetrying(string hook, string revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Hook} for {Revision} failed: {Error}")]
    private partial void LogHookFailed(Exception exception, string hook, string revision, string error);
}
