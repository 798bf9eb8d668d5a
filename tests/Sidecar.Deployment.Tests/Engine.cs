using System.Diagnostics;
using System.Net.Http;
using Sidecar.Tests;

// One deployment at a time: they share the engines, and their timings (a push served within a period) hold on a busy machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Sidecar.Deployment.Tests;

/// <summary>
/// The container infrastructure <c>deploy/test/setup.sh up</c> starts: dockerd, podman, a registry on
/// 127.0.0.1 holding both service images. The tests use it as it is; they start no daemon.
/// </summary>
public static class Infrastructure
{
    public static string Registry { get; } = Environment.GetEnvironmentVariable("SIDECAR_TEST_REGISTRY") is { Length: > 0 } r ? r : "127.0.0.1:5000";

    public static string Tag { get; } = Environment.GetEnvironmentVariable("SIDECAR_TEST_TAG") is { Length: > 0 } t ? t : "test";

    /// <summary>
    /// The Docker client from Debian's docker.io, which setup.sh installs: its <c>docker build</c> has BuildKit built
    /// in (DOCKER_BUILDKIT=1), where a newer client without the buildx plugin only has the slow legacy builder.
    /// </summary>
    public static string Docker { get; } = File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    /// <summary>Set by CI: a missing engine or registry fails the tests instead of skipping them.</summary>
    public static bool Required { get; } = Environment.GetEnvironmentVariable("SIDECAR_DEPLOYMENT_TEST") == "required";

    public static string RepositoryRoot => RepositoryFolder.Root;

    /// <summary>podman's settings for this machine (runc, cgroupfs), from the repository, as setup.sh uses them.</summary>
    public static string ContainersConf => Path.Combine(RepositoryRoot, "deploy", "test", "containers.conf");

    private static readonly Lazy<string?> missing = new(FindMissing);

    /// <summary>Why the deployment tests cannot run here, or null when everything they need is up.</summary>
    public static string? Missing => missing.Value;

    private static string? FindMissing()
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            http.GetAsync($"http://{Registry}/v2/").GetAwaiter().GetResult().EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return $"no registry answers at {Registry} ({e.Message}): run deploy/test/setup.sh up as root first";
        }
        foreach (var (tool, probe) in new[] { (Docker, "info"), ("podman", "info"), ("docker-compose", "version"), ("podman-compose", "version") })
        {
            var result = Command.TryRun(tool, [probe]);
            if (result.ExitCode != 0)
            {
                return $"'{tool} {probe}' failed ({result.Output.Trim()}): run deploy/test/setup.sh up as root first";
            }
        }
        return null;
    }
}

/// <summary>A fact that needs the container infrastructure: skipped, with the reason, where it is not up (unless CI requires it).</summary>
public sealed class DeploymentFactAttribute : FactAttribute
{
    public DeploymentFactAttribute()
    {
        if (!Infrastructure.Required && Infrastructure.Missing is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>Runs a command line tool to its end and returns its exit code and combined output.</summary>
public static class Command
{
    public sealed record Result(int ExitCode, string Output);

    public static Result TryRun(string file, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // podman (also under podman-compose) takes this machine's runtime settings from the repository's file.
        start.Environment["CONTAINERS_CONF"] = Infrastructure.ContainersConf;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Result(127, $"{file}: {e.Message}");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new Result(-1, $"{file} {string.Join(' ', arguments)} timed out\n{output.Result}{errors.Result}");
            }
            process.WaitForExit();
            return new Result(process.ExitCode, output.Result + errors.Result);
        }
    }

    /// <summary>Runs the command; a non-zero exit fails the test with the command line and its output.</summary>
    public static string Run(string file, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var list = arguments.ToList();
        var result = TryRun(file, list, workingDirectory, environment, timeout);
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', list)} exited {result.ExitCode}:\n{result.Output}");
        return result.Output;
    }
}
