using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Settings;

namespace Sidecar.StaticWeb.Revisions;

/// <summary>One resolution of the root: the real folder behind the link, and its name, which is the revision.</summary>
public sealed record ResolvedRoot(string Directory, string Revision);

/// <summary>
/// Resolves the configured root, which may be a symlink swapped at any moment, to the real folder
/// behind it. Each request resolves it once and serves everything from that one folder, like
/// nginx's <c>$realpath_root</c>.
/// </summary>
/// <remarks>
/// The per-request check is one poll(2) of an inotify watch on the link's folder
/// (<see cref="LinkFolderWatch"/>): while no entry of that folder has changed, the link is read only
/// after one has. The kernel queues the event before the call that swaps the link returns, so a
/// request that starts after a swap still reads the new target. Refreshes take a lock and drain the
/// events before reading the link, and a request uses the remembered answer only when no refresh is
/// under way, so it never gets an answer read before an event it could not see. Where the system
/// refuses a watch, or the folder is deleted or moved, each request reads the link (one readlink(2));
/// while the target is the one seen before, the earlier realpath(3) is reused without allocating.
/// With <c>StaticWeb:RevisionCheck=webhook</c> there is no per-request check: requests get what the link
/// named when it was last read, which is at the first request, on each webhook announcement, when a
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

    private readonly ILogger<ContentRoot> logger;
    private readonly Lock watchGate = new();
    // Watches that ended; closed at Dispose, since a request may still be polling one.
    private readonly List<LinkFolderWatch> endedWatches = [];
    private volatile LinkFolderWatch? watch;
    private volatile Resolution? watched;
    private bool watchRefused;
    private int refreshing;

    public ContentRoot(IOptions<StaticWebOptions> options, TimeProvider timeProvider, ILogger<ContentRoot> logger)
    {
        this.logger = logger;
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

    /// <summary>The folder the root points at now, or null when nothing is there yet.</summary>
    public ResolvedRoot? ResolveNow()
    {
        if (perRequest)
        {
            return ResolvePerRequest();
        }
        var resolved = ReadLinkAndResolve();
        known = resolved;
        return resolved;
    }

    /// <summary>Whether requests are checked with the folder's watch (false: one readlink each).</summary>
    internal bool WatchesLinkFolder => watch is not null;

    private ResolvedRoot? ResolvePerRequest()
    {
        if (watch is { } folder)
        {
            // In this order: an event drained by a refresh that has not finished shows as a refresh under way.
            if (!folder.MayHaveChanged() && Volatile.Read(ref refreshing) == 0 && watched is { } answer)
            {
                return answer.Root;
            }
            return Refresh();
        }
        var resolved = ReadLinkAndResolve();
        if (resolved is not null && !watchRefused)
        {
            StartWatching();
        }
        return resolved;
    }

    private ResolvedRoot? Refresh()
    {
        Interlocked.Increment(ref refreshing);
        try
        {
            lock (watchGate)
            {
                if (watch is not { } folder)
                {
                    return ReadLinkAndResolve();
                }
                if (!folder.Drain())
                {
                    // The folder was deleted, moved or unmounted: back to a readlink per request until a watch starts again.
                    watch = null;
                    watched = null;
                    endedWatches.Add(folder);
                    LogWatchEnded(LinkFolder ?? root);
                    return ReadLinkAndResolve();
                }
                var resolved = ReadLinkAndResolve();
                watched = new Resolution(resolved);
                return resolved;
            }
        }
        finally
        {
            Interlocked.Decrement(ref refreshing);
        }
    }

    private void StartWatching()
    {
        lock (watchGate)
        {
            if (watch is not null || watchRefused)
            {
                return;
            }
            if (LinkFolder is not { } folderPath)
            {
                watchRefused = true;
                return;
            }
            if (LinkFolderWatch.TryCreate(folderPath, out var error) is not { } folder)
            {
                // ENOENT: the folder went away since the link was read; a later request tries again.
                watchRefused = error != NoSuchFile;
                if (watchRefused)
                {
                    LogWatchRefused(folderPath, Marshal.GetPInvokeErrorMessage(error));
                }
                return;
            }
            // Read after the watch exists, so any later change leaves an event; published after the answer is.
            watched = new Resolution(ReadLinkAndResolve());
            watch = folder;
        }
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

    public void Dispose()
    {
        safetyNet?.Dispose();
        lock (watchGate)
        {
            watch?.Dispose();
            watch = null;
            endedWatches.ForEach(ended => ended.Dispose());
            endedWatches.Clear();
        }
    }

    private const int NoSuchFile = 2; // ENOENT

    // The folder that holds the link ("/srv/site" for "/srv/site/current" and "/srv/site/current/").
    private string? LinkFolder => Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(root));

    private sealed record LinkResolution(byte[] Target, ResolvedRoot Root);

    // What the link named at the last refresh under the watch (Root null: nothing published).
    private sealed record Resolution(ResolvedRoot? Root);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Cannot watch '{Folder}' for swaps of the root link ({Reason}); each request reads the link instead. Raise fs.inotify.max_user_instances or max_user_watches if they are exhausted")]
    private partial void LogWatchRefused(string folder, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "'{Folder}', which holds the root link, was deleted or moved; each request reads the link until the folder is back")]
    private partial void LogWatchEnded(string folder);

    // File.ResolveLinkTarget resolves only the link itself, not every symlink on the path as realpath does.
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    // Not FileSystemInfo.LinkTarget: that allocates an object and a string, and this runs at every request.
    [LibraryImport("libc")]
    private static unsafe partial nint readlink(byte* path, byte* buffer, nint size);

    [LibraryImport("libc")]
    private static partial void free(IntPtr pointer);
}
