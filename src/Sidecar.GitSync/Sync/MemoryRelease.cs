using System.Runtime.InteropServices;

namespace Sidecar.GitSync.Sync;

/// <summary>
/// Gives memory back to the system after a sync that published, and once after the first sync. Writing a snapshot allocates a lot at once (libgit2's
/// pack windows and inflate buffers, managed buffers), then the sidecar mostly sleeps: without this, the managed heap
/// keeps its high-water mark committed and glibc keeps libgit2's freed memory in its arenas, so the resident size of a
/// sidecar that is idle between polls stays at its peak.
/// </summary>
internal static partial class MemoryRelease
{
    // malloc_trim is glibc's; on other C libraries (musl) it is missing and the managed part still runs.
    private static bool trimAvailable = OperatingSystem.IsLinux();

    /// <summary>Compacts the managed heap and gives its free memory back, then trims the C heap; true when the C heap was trimmed.</summary>
    public static bool GiveBack()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!trimAvailable)
        {
            return false;
        }
        try
        {
            _ = malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            trimAvailable = false;
            return false;
        }
    }

    // The C heap (libgit2's buffers) is out of the GC's reach; only glibc can give it back.
    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
