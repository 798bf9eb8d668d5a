using System.Runtime.InteropServices;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>
/// An inotify(7) watch on the folder that holds the root link: it says whether any entry of that folder
/// may have changed since the events were last drained. The kernel queues the event inside the
/// rename(2), symlink(2) or unlink(2) that replaces the link, before that call returns, so a request
/// that starts after a swap finds an event waiting. Asking costs one poll(2), about a third of a
/// readlink(2) here.
/// </summary>
/// <remarks>
/// Not <see cref="FileSystemWatcher"/>: its events arrive later, on a thread of its own, and a request
/// served in between would get the old revision.
/// </remarks>
internal sealed partial class LinkFolderWatch : IDisposable
{
    private const int InNonBlock = 0x800;
    private const int InCloseOnExec = 0x80000;
    private const uint InMovedFrom = 0x40;
    private const uint InMovedTo = 0x80;
    private const uint InCreate = 0x100;
    private const uint InDelete = 0x200;
    private const uint InDeleteSelf = 0x400;
    private const uint InMoveSelf = 0x800;
    private const uint InUnmount = 0x2000;
    private const uint InIgnored = 0x8000;
    private const uint InOnlyDirectory = 0x01000000;
    private const short PollIn = 0x1;
    // struct inotify_event: wd, mask, cookie, len, then len bytes of name.
    private const int EventHeaderBytes = 16;

    // Entries created, deleted or renamed in or out of the folder, and the folder itself deleted or moved.
    private const uint Watched = InMovedFrom | InMovedTo | InCreate | InDelete | InDeleteSelf | InMoveSelf | InOnlyDirectory;
    // After these the watch no longer follows the folder the configured path names.
    private const uint WatchEnded = InDeleteSelf | InMoveSelf | InUnmount | InIgnored;

    private readonly int descriptor;

    private LinkFolderWatch(int descriptor) => this.descriptor = descriptor;

    /// <summary>Watches the folder, or returns null with the reason (errno) when the system refuses.</summary>
    public static LinkFolderWatch? TryCreate(string folder, out int error)
    {
        var descriptor = inotify_init1(InNonBlock | InCloseOnExec);
        if (descriptor < 0)
        {
            error = Marshal.GetLastPInvokeError();
            return null;
        }
        if (inotify_add_watch(descriptor, folder, Watched) < 0)
        {
            error = Marshal.GetLastPInvokeError();
            _ = close(descriptor);
            return null;
        }
        error = 0;
        return new LinkFolderWatch(descriptor);
    }

    /// <summary>Whether an event is waiting (or the answer is unknown): the folder may have changed since the last <see cref="Drain"/>.</summary>
    public unsafe bool MayHaveChanged()
    {
        var request = new PollDescriptor { Descriptor = descriptor, Events = PollIn };
        return poll(&request, 1, 0) != 0;
    }

    /// <summary>Reads every waiting event; false when the watch has ended (the folder was deleted, moved or unmounted).</summary>
    public unsafe bool Drain()
    {
        var ended = false;
        Span<byte> buffer = stackalloc byte[4096];
        fixed (byte* start = buffer)
        {
            nint length;
            while ((length = read(descriptor, start, (nuint)buffer.Length)) > 0)
            {
                for (var offset = 0; offset + EventHeaderBytes <= length;)
                {
                    var mask = MemoryMarshal.Read<uint>(buffer[(offset + 4)..]);
                    var nameBytes = MemoryMarshal.Read<uint>(buffer[(offset + 12)..]);
                    ended |= (mask & WatchEnded) != 0;
                    offset += EventHeaderBytes + (int)nameBytes;
                }
            }
        }
        return !ended;
    }

    public void Dispose() => _ = close(descriptor);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int inotify_init1(int flags);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int inotify_add_watch(int descriptor, string path, uint mask);

    [LibraryImport("libc")]
    private static unsafe partial int poll(PollDescriptor* descriptors, nuint count, int timeout);

    [LibraryImport("libc")]
    private static unsafe partial nint read(int descriptor, byte* buffer, nuint count);

    [LibraryImport("libc")]
    private static partial int close(int descriptor);
}
