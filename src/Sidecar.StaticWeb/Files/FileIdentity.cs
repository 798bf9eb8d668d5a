using System.Runtime.InteropServices;

namespace Sidecar.StaticWeb.Files;

/// <summary>
/// What identifies a file's bytes on disk without reading them: device, inode, size and mtime,
/// from one statx(2) call (its layout is the same on every Linux architecture).
/// </summary>
public readonly partial record struct FileIdentity(ulong Device, ulong Inode, long Size, long MTimeSeconds, uint MTimeNanoseconds)
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ModeOffset = 28, InodeOffset = 32, SizeOffset = 40, MTimeOffset = 112, DevMajorOffset = 136, DevMinorOffset = 140;
    private const ushort FileTypeMask = 0xF000, RegularFile = 0x8000;

    public DateTimeOffset LastModified => DateTimeOffset.FromUnixTimeSeconds(MTimeSeconds);

    /// <summary>The identity of a regular file (following symlinks), or null when the path is missing or not a regular file.</summary>
    public static unsafe FileIdentity? Of(string path)
    {
        var buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, 0, StatxBasicStats, buffer) != 0)
        {
            return null;
        }
        var mode = *(ushort*)(buffer + ModeOffset);
        if ((mode & FileTypeMask) != RegularFile)
        {
            return null;
        }
        var device = ((ulong)*(uint*)(buffer + DevMajorOffset) << 32) | *(uint*)(buffer + DevMinorOffset);
        return new FileIdentity(
            device,
            *(ulong*)(buffer + InodeOffset),
            *(long*)(buffer + SizeOffset),
            *(long*)(buffer + MTimeOffset),
            *(uint*)(buffer + MTimeOffset + 8));
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
