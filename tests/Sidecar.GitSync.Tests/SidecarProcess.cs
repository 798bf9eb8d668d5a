using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// The built Sidecar.GitSync executable, run as a user runs it; killed when disposed. SIDECAR_GITSYNC_BINARY names
/// another build to run instead, such as the Native AOT executable of <c>dotnet publish</c> (docs/gitsync.md).
/// </summary>
public sealed class SidecarProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private SidecarProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (output) { return output.ToString(); } } }

    public int Id => process.Id;

    public bool HasExited => process.HasExited;

    /// <summary>SIGKILL: the process gets no chance to clean up, as in a node failure or an OOM kill.</summary>
    public void KillHard()
    {
        process.Kill();
        process.WaitForExit();
    }

    public static string Binary { get; } =
        Environment.GetEnvironmentVariable("SIDECAR_GITSYNC_BINARY") is { Length: > 0 } binary
            ? Path.GetFullPath(binary)
            : Path.Combine(AppContext.BaseDirectory, "Sidecar.GitSync");

    public int ExitCode => process.ExitCode;

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            return false;
        }
        process.WaitForExit();
        return true;
    }

    public static SidecarProcess Start(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? binary = null)
    {
        var start = new ProcessStartInfo(binary ?? Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // The test run's own OTLP settings must not leak into the sidecar.
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        // No diagnostics pipes in /tmp: a process killed hard cannot remove them, and the crash tests kill 20.
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new SidecarProcess(Process.Start(start)!);
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
    {
        using var sidecar = Start(arguments, environment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await sidecar.process.WaitForExitAsync(timeout.Token);
        sidecar.process.WaitForExit();
        return (sidecar.process.ExitCode, sidecar.Output);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
