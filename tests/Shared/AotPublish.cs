using System.Diagnostics;

namespace Sidecar.Tests;

/// <summary>
/// Publishes one of the services once per test class, as its container image is built (Native AOT, <c>-c Release</c>),
/// into a temporary folder; the tests then run <see cref="Binary"/>.
/// </summary>
public abstract class AotPublish : IDisposable
{
    private readonly TempFolder folder;

    protected AotPublish(string project)
    {
        folder = new TempFolder($"{project.ToLowerInvariant().Replace('.', '-')}-aot");
        Output = folder.Combine("publish");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No build servers: nothing of the build may outlive the tests. Quiet still reports every warning.
        foreach (var argument in (string[])["publish", Path.Combine(RepositoryFolder.Root, "src", project, project + ".csproj"),
            "-c", "Release", "-o", Output, "--disable-build-servers", "-nodeReuse:false", "-v", "q", "-nologo"])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var publish = Process.Start(start)!;
        var output = publish.StandardOutput.ReadToEndAsync();
        var error = publish.StandardError.ReadToEndAsync();
        if (!publish.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            publish.Kill(entireProcessTree: true);
        }
        publish.WaitForExit();
        ExitCode = publish.ExitCode;
        Log = $"dotnet publish exited {publish.ExitCode}:\n{output.Result}\n{error.Result}";
        Binary = Path.Combine(Output, project);
    }

    public string Output { get; }

    public string Binary { get; }

    public int ExitCode { get; }

    public string Log { get; }

    public void Dispose()
    {
        folder.Dispose();
        GC.SuppressFinalize(this);
    }
}
