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
public sealed partial class ContentRoot(IOptions<StaticWebOptions> options)
{
    private readonly string root = Path.GetFullPath(options.Value.Root);

    public string ConfiguredRoot => root;

    /// <summary>The folder the root points at now, or null when nothing is there yet.</summary>
    public ResolvedRoot? Resolve()
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

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
