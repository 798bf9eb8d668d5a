using System.Diagnostics;

namespace Sidecar.AppHost.Tests;

/// <summary>Runs the built AppHost as a user does, for the publish operations.</summary>
public static class AppHostProcess
{
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] arguments) =>
        DotnetAsync(["run", "--project", Projects.AppHost.ProjectPath, "--no-build", "--no-launch-profile", "--", .. arguments], workingDirectory: null, TimeSpan.FromMinutes(2));

    /// <summary>Runs <c>dotnet</c> with the arguments and returns its exit code and output; killed with its children after the timeout.</summary>
    public static async Task<(int ExitCode, string Output)> DotnetAsync(IEnumerable<string> arguments, string? workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var expiry = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(expiry.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await output + await errors);
    }
}
