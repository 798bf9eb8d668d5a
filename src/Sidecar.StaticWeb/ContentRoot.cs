using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace Sidecar.StaticWeb;

/// <summary>One resolution of the root: the real folder behind the link, and its name, which is the revision.</summary>
public sealed record ResolvedRoot(string Directory, string Revision);

/// <summary>
/// Resolves the configured root, which may be a symlink swapped at any moment, to the real folder
/// behind it. Each request resolves it once and serves everything from that one folder, like
/// nginx's <c>$realpath_root</c>; no file watcher, since watchers miss symlink swaps.
/// </summary>
/// <remarks>
/// The per-request check is one readlink(2) of the link: while the link's target is the one seen
/// before, the earlier realpath(3) still holds and is reused without allocating.
/// </remarks>
public sealed partial class ContentRoot(IOptions<StaticWebOptions> options)
{
    private const int MaxLinkBytes = 1024;

    private readonly string root = Path.GetFullPath(options.Value.Root);
    private volatile LinkResolution? last;

    public string ConfiguredRoot => root;

    /// <summary>The folder the root points at now, or null when nothing is there yet.</summary>
    public ResolvedRoot? Resolve()
    {
        Span<byte> target = stackalloc byte[MaxLinkBytes];
        var length = ReadLink(root, target);
        if (length < 0)
        {
            // Not a symlink (a plain folder, or missing): resolve it in full every time.
            return ResolveFully();
        }
        var target1 = target[..length];
        var seen = last;
        if (seen is not null && target1.SequenceEqual(seen.Target))
        {
            return seen.Root;
        }

        var resolved = ResolveFully();
        if (resolved is null)
        {
            return null;
        }
        // Remember the pair only if the link did not move while realpath ran.
        Span<byte> again = stackalloc byte[MaxLinkBytes];
        var againLength = ReadLink(root, again);
        if (againLength == length && again[..againLength].SequenceEqual(target1))
        {
            last = new LinkResolution(target1.ToArray(), resolved);
        }
        return resolved;
    }

    private ResolvedRoot? ResolveFully()
    {
        var real = RealPath(root);
        if (real is null || !Directory.Exists(real))
        {
            return null;
        }
        return new ResolvedRoot(real, Path.GetFileName(real));
    }

    /// <summary>The path with every symlink resolved, as realpath(3); null if it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    private static unsafe int ReadLink(string path, Span<byte> buffer)
    {
        fixed (byte* pointer = buffer)
        {
            var length = readlink(path, pointer, (nint)buffer.Length);
            return length >= buffer.Length ? -1 : (int)length;
        }
    }

    private sealed record LinkResolution(byte[] Target, ResolvedRoot Root);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial nint readlink(string path, byte* buffer, nint size);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
