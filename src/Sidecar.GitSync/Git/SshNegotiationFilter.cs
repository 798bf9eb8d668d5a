using System.Runtime.InteropServices;

namespace Sidecar.GitSync.Git;

/// <summary>
/// Lets libgit2 1.8 fetch shallow over SSH. In a shallow fetch, libgit2 1.8 sends its wants and <c>deepen</c> lines,
/// reads the server's shallow list, then sends that same block again in front of its first haves: right for HTTP,
/// where each request must be whole, but on SSH's one stateful connection upload-pack stops with "expected SHA1 list"
/// (libgit2 1.9 fixed it, commits eb84531 and bef4b73; no LibGit2Sharp release ships it). The ssh script pipes what
/// libgit2 writes through this filter (the sidecar run with <see cref="Argument"/>), which drops the repeat: after a
/// first block that holds <c>deepen</c>, bytes equal to that block are left out; at the first byte that differs (a
/// libgit2 that does not repeat it) everything passes unchanged.
/// </summary>
public static partial class SshNegotiationFilter
{
    public const string Argument = "--ssh-negotiation-filter";

    /// <summary>
    /// The command that runs this filter, quoted for the shell: this executable (Native AOT or apphost), <c>dotnet</c>
    /// with the sidecar's assembly, or, when the sidecar is hosted in another process, the executable beside its
    /// assembly. Null when there is none; then SSH fetches take all history.
    /// </summary>
    public static string? Command { get; } = FindCommand();

    private static string? FindCommand()
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name;
        var process = Environment.ProcessPath;
        if (entry == "Sidecar.GitSync" && process is not null)
        {
            var isHost = Path.GetFileNameWithoutExtension(process) == "dotnet";
            var assembly = Path.Combine(AppContext.BaseDirectory, "Sidecar.GitSync.dll");
            return isHost ? $"{SshTransport.Quote(process)} {SshTransport.Quote(assembly)} {Argument}" : $"{SshTransport.Quote(process)} {Argument}";
        }
        var beside = Path.Combine(AppContext.BaseDirectory, "Sidecar.GitSync");
        return File.Exists(beside) ? $"{SshTransport.Quote(beside)} {Argument}" : null;
    }

    /// <summary>
    /// Runs the filter on the process's standard streams, and ends the process when ssh (the reader of its output) has
    /// exited: the shell waits for every command of the pipeline, and libgit2 waits for the script, so a filter still
    /// waiting for input after ssh failed would hold the sync until its timeout.
    /// </summary>
    public static void RunOnStandardStreams()
    {
        var watcher = new Thread(() =>
        {
            // POLLERR (or POLLHUP) on the write end of a pipe: its reader is gone.
            var descriptor = new PollDescriptor { Descriptor = 1, Events = 0 };
            while (poll(ref descriptor, 1, -1) < 0 && Marshal.GetLastPInvokeError() == EINTR)
            {
            }
            // The main thread is blocked in a read of stdin that nothing in .NET can cancel: ending the process is the way out.
            Environment.Exit(0);
        }) { IsBackground = true };
        watcher.Start();
        Run(Console.OpenStandardInput(), Console.OpenStandardOutput());
    }

    private const int EINTR = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    // .NET cannot wait on a pipe for POLLERR/POLLHUP without reading or writing it; poll(2) can.
    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollDescriptor descriptors, nuint count, int timeout);

    /// <summary>Copies <paramref name="input"/> to <paramref name="output"/> without the repeated shallow request.</summary>
    public static void Run(Stream input, Stream output)
    {
        try
        {
            var block = new MemoryStream();
            var shallow = false;
            // The first block: pkt-lines up to the flush-pkt "0000", each passed on as soon as it is read.
            while (true)
            {
                var length = new byte[4];
                if (!ReadExactly(input, length))
                {
                    return;
                }
                var size = Convert.ToInt32(System.Text.Encoding.ASCII.GetString(length), 16);
                var payload = new byte[Math.Max(0, size - 4)];
                if (size > 4 && !ReadExactly(input, payload))
                {
                    output.Write(length);
                    output.Flush();
                    return;
                }
                block.Write(length);
                block.Write(payload);
                output.Write(length);
                output.Write(payload);
                output.Flush();
                shallow |= payload.AsSpan().StartsWith("deepen"u8);
                if (size == 0)
                {
                    break;
                }
            }
            if (shallow)
            {
                SkipRepeat(input, output, block.ToArray());
            }
            var buffer = new byte[64 * 1024];
            int count;
            while ((count = input.Read(buffer)) > 0)
            {
                output.Write(buffer, 0, count);
                output.Flush();
            }
        }
        catch (Exception e) when (e is IOException or FormatException or ArgumentException)
        {
            // The connection ended (ssh exited), or the stream is not git's protocol: nothing more to pass on.
        }
    }

    // Reads byte by byte, so it never waits for more than the next send holds.
    private static void SkipRepeat(Stream input, Stream output, byte[] block)
    {
        for (var matched = 0; matched < block.Length; matched++)
        {
            var next = input.ReadByte();
            if (next < 0 || next != block[matched])
            {
                output.Write(block, 0, matched);
                if (next >= 0)
                {
                    output.WriteByte((byte)next);
                }
                output.Flush();
                return;
            }
        }
    }

    private static bool ReadExactly(Stream input, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var count = input.Read(buffer, read, buffer.Length - read);
            if (count == 0)
            {
                return false;
            }
            read += count;
        }
        return true;
    }
}
