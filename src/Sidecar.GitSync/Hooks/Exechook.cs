using System.Diagnostics;
using Sidecar.GitSync.CommandLine;
using Sidecar.GitSync.Snapshots;
using Sidecar.GitSync.Telemetry;

namespace Sidecar.GitSync.Hooks;

/// <summary><c>--exechook-command</c>: runs the program (no arguments) in the published snapshot, with <c>GITSYNC_HASH</c> set.</summary>
public sealed partial class Exechook(GitSyncOptions options, SnapshotPublisher publisher, TimeProvider timeProvider, ILogger<Exechook> logger) : IPublishHook
{
    public string Name => "exechook";

    public TimeSpan Backoff => options.ExechookBackoff;

    public async Task<bool> RunAsync(string sha, ActivityContext syncTrace, CancellationToken cancellationToken)
    {
        using var activity = GitSyncTelemetry.ActivitySource.StartActivity("exechook", ActivityKind.Internal, syncTrace);
        activity?.SetTag("gitsync.revision", sha);
        var start = new ProcessStartInfo(options.ExechookCommand)
        {
            WorkingDirectory = publisher.SnapshotDirectory(sha),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GITSYNC_HASH"] = sha;
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            LogNotStarted(options.ExechookCommand, e.Message);
            return false;
        }
        var output = Task.WhenAll(process.StandardOutput.ReadToEndAsync(cancellationToken), process.StandardError.ReadToEndAsync(cancellationToken));
        using var deadline = new CancellationTokenSource(options.ExechookTimeout, timeProvider);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            LogTimedOut(options.ExechookCommand, sha, GoDuration.Format(options.ExechookTimeout));
            return false;
        }
        var text = await output;
        activity?.SetTag("process.exit.code", process.ExitCode);
        if (process.ExitCode == 0)
        {
            LogSucceeded(options.ExechookCommand, sha, (text[0] + text[1]).Trim());
            return true;
        }
        LogFailed(options.ExechookCommand, sha, process.ExitCode, (text[0] + text[1]).Trim());
        activity?.SetStatus(ActivityStatusCode.Error);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "--exechook-command '{Command}' could not be started ({Error}): give the path of an executable file")]
    private partial void LogNotStarted(string command, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exechook {Command} for {Revision} did not finish within {Timeout} (--exechook-timeout) and was killed")]
    private partial void LogTimedOut(string command, string revision, string timeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Exechook {Command} for {Revision} succeeded; output: {Output}")]
    private partial void LogSucceeded(string command, string revision, string output);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Exechook {Command} for {Revision} exited {ExitCode}; output: {Output}")]
    private partial void LogFailed(string command, string revision, int exitCode, string output);
}
