using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>One resolution of the root: the real folder behind the link, and its name, which is the revision.</summary>
public sealed record ResolvedRoot(string Directory, string Revision);

/// <summary>
/// Resolves the configured root, which may be a symlink swapped at any moment, to the real folder
/// behind it. Each request resolves it once and serves everything from that one folder, like
/// nginx's <c>$realpath_root</c>; no file watcher, since watchers miss symlink swaps.
/// </summary>
/// <remarks>
/// The per-request check is one readlink(2) of the link: while the link's target is the one seen
/// before, the earlier realpath(3) still holds and is reused without allocating. With
/// <c>StaticWeb:RevisionCheck=webhook</c> there is no per-request check: requests get what the link named
/// when it was last read, which is at the first request, on each webhook announcement, when a
/// resolved revision turns out deleted, and every <see cref="StaticWebOptions.RevisionCheckSeconds"/>.
/// </remarks>
public sealed partial class ContentRoot : IDisposable
{
    private const int MaxLinkBytes = 1024;

    private readonly string root;
    // The link's path as readlink(2) takes it, encoded once rather than at every request.
    private readonly byte[] rootPath;
    private readonly bool perRequest;
    private readonly ITimer? safetyNet;
    private volatile LinkResolution? last;
    private volatile ResolvedRoot? known;

    public ContentRoot(IOptions<StaticWebOptions> options, TimeProvider timeProvider)
    {
        root = Path.GetFullPath(options.Value.Root);
        rootPath = System.Text.Encoding.UTF8.GetBytes(root + "\0");
        perRequest = options.Value.ChecksRevisionPerRequest;
        if (!perRequest)
        {
            var period = TimeSpan.FromSeconds(options.Value.RevisionCheckSeconds);
            safetyNet = timeProvider.CreateTimer(_ => ResolveNow(), null, period, period);
        }
    }

    public string ConfiguredRoot => root;

    /// <summary>
    /// The folder a request starting now serves, or null when nothing is there yet: the link read now,
    /// or with <c>StaticWeb:RevisionCheck=webhook</c> the link as last read.
    /// </summary>
    public ResolvedRoot? Resolve() => perRequest ? ResolveNow() : known ?? ResolveNow();

    /// <summary>The folder the root points at now (one readlink), or null when nothing is there yet.</summary>
    public ResolvedRoot? ResolveNow()
    {
        var resolved = ReadLinkAndResolve();
        if (!perRequest)
        {
            known = resolved;
        }
        return resolved;
    }

    private ResolvedRoot? ReadLinkAndResolve()
    {
        Span<byte> target = stackalloc byte[MaxLinkBytes];
        var length = ReadLink(rootPath, target);
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
        var againLength = ReadLink(rootPath, again);
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

    private static unsafe int ReadLink(byte[] path, Span<byte> buffer)
    {
        fixed (byte* link = path)
        fixed (byte* pointer = buffer)
        {
            var length = readlink(link, pointer, (nint)buffer.Length);
            return length >= buffer.Length ? -1 : (int)length;
        }
    }

    public void Dispose() => safetyNet?.Dispose();

    private sealed record LinkResolution(byte[] Target, ResolvedRoot Root);

    // File.ResolveLinkTarget resolves only the link itself, not every symlink on the path as realpath does.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    // Not FileSystemInfo.LinkTarget: that allocates an object and a string, and this runs at every request.
    [LibraryImport("libc")]
    private static unsafe partial nint readlink(byte* path, byte* buffer, nint size);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
