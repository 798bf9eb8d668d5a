using System.Diagnostics;

namespace Sidecar.GitSync;

/// <summary><c>--exechook-command</c>: runs the program (no arguments) in the published snapshot, with <c>GITSYNC_HASH</c> set.</summary>
public sealed class Exechook(GitSyncOptions options, SnapshotPublisher publisher, TimeProvider timeProvider, ILogger<Exechook> logger) : IPublishHook
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
            logger.LogWarning("--exechook-command '{Command}' could not be started ({Error}): give the path of an executable file",
                options.ExechookCommand, e.Message);
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
            logger.LogWarning("Exechook {Command} for {Revision} did not finish within {Timeout} (--exechook-timeout) and was killed",
                options.ExechookCommand, sha, GoDuration.Format(options.ExechookTimeout));
            return false;
        }
        var text = await output;
        activity?.SetTag("process.exit.code", process.ExitCode);
        if (process.ExitCode == 0)
        {
            logger.LogInformation("Exechook {Command} for {Revision} succeeded; output: {Output}", options.ExechookCommand, sha, (text[0] + text[1]).Trim());
            return true;
        }
        logger.LogWarning("Exechook {Command} for {Revision} exited {ExitCode}; output: {Output}",
            options.ExechookCommand, sha, process.ExitCode, (text[0] + text[1]).Trim());
        activity?.SetStatus(ActivityStatusCode.Error);
        return false;
    }
}
