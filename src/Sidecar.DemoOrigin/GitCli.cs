using System.Diagnostics;

namespace Sidecar.DemoOrigin;

/// <summary>Runs the git command line; the demo origin uses it to create and seed repositories.</summary>
public static class GitCli
{
    // A fixed identity, so commits made here never depend on the machine's git configuration.
    private static readonly string[] Identity =
        ["-c", "user.name=Sidecar Demo", "-c", "user.email=demo@sidecar.invalid", "-c", "commit.gpgsign=false"];

    public static async Task<string> RunAsync(string? workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in Identity.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException("could not start git: is it installed and on PATH?");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"git {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {(await errors).Trim()}");
        }
        return (await output).Trim();
    }
}
