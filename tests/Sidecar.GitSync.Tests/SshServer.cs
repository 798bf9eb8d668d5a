using System.Diagnostics;
using System.Text;
using Sidecar.DemoOrigin;
using Sidecar.Tests;

namespace Sidecar.GitSync.Tests;

/// <summary>
/// A real OpenSSH server on 127.0.0.1 at a free port, configured in a temp folder: a generated host key,
/// one authorized client key, and bare repositories to serve. It runs git-upload-pack for the clients as
/// the current user. Stopped (with its connections) when disposed.
/// </summary>
public sealed class SshServer : IAsyncDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private readonly Process process;
    private readonly StringBuilder log;

    private SshServer(TempFolder folder, Process process, StringBuilder log, int port)
    {
        Folder = folder;
        this.process = process;
        this.log = log;
        Port = port;
    }

    public TempFolder Folder { get; }

    public int Port { get; }

    /// <summary>The private key the server accepts. Its path holds a space and a quote, so quoting is tested with every use.</summary>
    public string ClientKey => Folder.Combine("client key's", "id_ed25519");

    /// <summary>A private key the server does not accept.</summary>
    public string StrangerKey => Folder.Combine("stranger", "id_ed25519");

    /// <summary>A known_hosts file with this server's host key.</summary>
    public string KnownHosts => Folder.Combine("known_hosts");

    /// <summary>A known_hosts file that names another key for this server, as after a man-in-the-middle.</summary>
    public string WrongKnownHosts => Folder.Combine("known_hosts.wrong");

    public string Log { get { lock (log) { return log.ToString(); } } }

    public static async Task<SshServer> StartAsync()
    {
        if (!File.Exists(Sshd))
        {
            throw new InvalidOperationException(
                $"{Sshd} is missing: the SSH tests need a real OpenSSH server and client; install them with apt-get install -y openssh-server openssh-client");
        }
        var folder = new TempFolder("sidecar-sshd");
        try
        {
            await KeygenAsync(folder.Combine("host_key"));
            await KeygenAsync(folder.Combine("client key's", "id_ed25519"));
            await KeygenAsync(folder.Combine("stranger", "id_ed25519"));
            await KeygenAsync(folder.Combine("other_host_key"));
            File.Copy(folder.Combine("client key's", "id_ed25519.pub"), folder.Combine("authorized_keys"));
            // sshd's privilege separation needs this folder; a package install creates it, a container may not have it.
            Directory.CreateDirectory("/run/sshd");

            for (var attempt = 1; ; attempt++)
            {
                var port = SidecarProcess.FreePort();
                await File.WriteAllTextAsync(folder.Combine("known_hosts"), KnownHostsLine(folder.Combine("host_key.pub"), port));
                await File.WriteAllTextAsync(folder.Combine("known_hosts.wrong"), KnownHostsLine(folder.Combine("other_host_key.pub"), port));
                await File.WriteAllTextAsync(folder.Combine("sshd_config"), $"""
                    ListenAddress 127.0.0.1:{port}
                    HostKey {folder.Combine("host_key")}
                    AuthorizedKeysFile {folder.Combine("authorized_keys")}
                    PidFile none
                    StrictModes no
                    UsePAM no
                    PermitRootLogin prohibit-password
                    PasswordAuthentication no
                    KbdInteractiveAuthentication no
                    """);
                var log = new StringBuilder();
                var start = new ProcessStartInfo(Sshd)
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                };
                foreach (var argument in new[] { "-D", "-e", "-f", folder.Combine("sshd_config") })
                {
                    start.ArgumentList.Add(argument);
                }
                var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var process = Process.Start(start)!;
                DataReceivedEventHandler append = (_, e) =>
                {
                    lock (log) { log.AppendLine(e.Data); }
                    if (e.Data?.Contains("Server listening", StringComparison.Ordinal) == true)
                    {
                        listening.TrySetResult();
                    }
                };
                process.OutputDataReceived += append;
                process.ErrorDataReceived += append;
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var exited = process.WaitForExitAsync();
                if (await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(20))) == listening.Task)
                {
                    return new SshServer(folder, process, log, port);
                }
                Stop(process);
                // Another process may have taken the port between the probe and sshd's bind: try another.
                if (attempt == 3)
                {
                    string said;
                    lock (log) { said = log.ToString(); }
                    throw new InvalidOperationException($"sshd did not start listening on 127.0.0.1:{port}: {said}");
                }
            }
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>Creates an empty bare repository in the server's folder and returns it with its <c>ssh://</c> URL.</summary>
    public Task<OriginRepository> CreateRepositoryAsync(string name = "site") =>
        OriginRepository.CreateAsync(Folder, name, bare => $"ssh://{Environment.UserName}@127.0.0.1:{Port}{bare}");

    public async ValueTask DisposeAsync()
    {
        Stop(process);
        await Task.CompletedTask;
        Folder.Dispose();
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            // The listener and the sessions it forked.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }

    private static string KnownHostsLine(string publicKeyFile, int port)
    {
        var parts = File.ReadAllText(publicKeyFile).Split(' ');
        return $"[127.0.0.1]:{port} {parts[0]} {parts[1]}\n";
    }

    private static async Task KeygenAsync(string file)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var start = new ProcessStartInfo("ssh-keygen")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-q", "-t", "ed25519", "-N", "", "-C", "sidecar-test", "-f", file })
        {
            start.ArgumentList.Add(argument);
        }
        Process keygenProcess;
        try
        {
            keygenProcess = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"ssh-keygen could not be started ({e.Message}): install it with apt-get install -y openssh-client", e);
        }
        using var keygen = keygenProcess;
        var errors = keygen.StandardError.ReadToEndAsync();
        await keygen.WaitForExitAsync();
        if (keygen.ExitCode != 0)
        {
            throw new InvalidOperationException($"ssh-keygen -f {file} failed: {await errors}");
        }
    }
}
