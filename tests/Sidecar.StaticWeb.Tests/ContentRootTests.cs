using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sidecar.StaticWeb.Revisions;
using Sidecar.StaticWeb.Settings;
using Sidecar.Tests;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The root link resolved per request through the watch on its folder: a resolution that starts after a
/// swap has returned names the new revision, however the link is replaced, and with the folder
/// deleted and made again.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ContentRootTests : IDisposable
{
    private readonly TempFolder site = new("sidecar-root");

    private string Link => site.Combine("current");

    public void Dispose() => site.Dispose();

    private ContentRoot Open(string? root = null) =>
        new(Options.Create(new StaticWebOptions { Root = root ?? Link }), TimeProvider.System, NullLogger<ContentRoot>.Instance);

    private string Revision(string name) => Directory.CreateDirectory(site.Combine(".worktrees", name)).FullName;

    // As the sidecar swaps: a new link renamed over the old one.
    private void Swap(string revision)
    {
        var temporary = site.Combine($".tmp-link-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temporary, Path.Combine(".worktrees", revision));
        Assert.Equal(0, rename(temporary, Link));
    }

    [Fact]
    public void EveryResolutionAfterASwapNamesTheNewRevision()
    {
        var names = Enumerable.Range(0, 200).Select(i => $"rev-{i:D3}").ToArray();
        foreach (var name in names)
        {
            Revision(name);
        }
        Swap(names[0]);
        using var root = Open();

        Assert.Equal(names[0], root.Resolve()?.Revision);
        Assert.True(root.WatchesLinkFolder);
        foreach (var name in names.Skip(1))
        {
            Swap(name);
            Assert.Equal(name, root.Resolve()?.Revision);
            Assert.Equal(name, root.Resolve()?.Revision);
        }
        Assert.True(root.WatchesLinkFolder);
    }

    [Fact]
    public void ALinkReplacedByDeleteAndCreateIsSeen()
    {
        Revision("a");
        Revision("b");
        Swap("a");
        using var root = Open();
        Assert.Equal("a", root.Resolve()?.Revision);

        // What `ln -sfn` does: unlink, then symlink.
        File.Delete(Link);
        Assert.Null(root.Resolve());
        File.CreateSymbolicLink(Link, Path.Combine(".worktrees", "b"));

        Assert.Equal("b", root.Resolve()?.Revision);
        Assert.True(root.WatchesLinkFolder);
    }

    [Fact]
    public void AFolderDeletedAndMadeAgainIsWatchedAgain()
    {
        Revision("a");
        Swap("a");
        using var root = Open();
        Assert.Equal("a", root.Resolve()?.Revision);
        Assert.True(root.WatchesLinkFolder);

        Directory.Delete(site.Path, recursive: true);
        Assert.Null(root.Resolve());
        Assert.False(root.WatchesLinkFolder);

        Directory.CreateDirectory(site.Path);
        Revision("b");
        Swap("b");
        Assert.Equal("b", root.Resolve()?.Revision);
        Assert.True(root.WatchesLinkFolder);
        Revision("c");
        Swap("c");
        Assert.Equal("c", root.Resolve()?.Revision);
    }

    [Fact]
    public void ARootGivenWithATrailingSlashWatchesTheLinksFolder()
    {
        Revision("a");
        Revision("b");
        Swap("a");
        using var root = Open(Link + "/");
        Assert.Equal("a", root.Resolve()?.Revision);

        Swap("b");

        Assert.Equal("b", root.Resolve()?.Revision);
    }

    [Fact]
    public void NothingPublishedYetIsNullUntilTheLinkAppears()
    {
        using var root = Open();
        Assert.Null(root.Resolve());

        Revision("a");
        Swap("a");

        Assert.Equal("a", root.Resolve()?.Revision);
    }

    [Fact]
    public async Task ResolutionsRacingSwapsNeverNameAnOlderRevisionThanTheLastSwapBeforeThem()
    {
        const int swaps = 400;
        for (var i = 0; i <= swaps; i++)
        {
            Revision($"rev-{i:D4}");
        }
        Swap("rev-0000");
        using var root = Open();
        Assert.Equal("rev-0000", root.Resolve()?.Revision);
        var completed = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var done = new CancellationTokenSource();

        void Resolver()
        {
            while (!done.IsCancellationRequested)
            {
                var before = Volatile.Read(ref completed);
                var revision = root.Resolve()?.Revision;
                var seen = revision is null ? -1 : int.Parse(revision["rev-".Length..], System.Globalization.CultureInfo.InvariantCulture);
                if (seen < before)
                {
                    failures.Enqueue($"swap {before} had returned, the resolution gave {revision}");
                }
            }
        }

        var resolvers = Enumerable.Range(0, 3).Select(_ => Task.Run(Resolver)).ToArray();
        for (var i = 1; i <= swaps; i++)
        {
            Swap($"rev-{i:D4}");
            Volatile.Write(ref completed, i);
            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }
        await done.CancelAsync();
        await Task.WhenAll(resolvers);

        Assert.Empty(failures);
        Assert.Equal($"rev-{swaps:D4}", root.Resolve()?.Revision);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int rename(string oldPath, string newPath);
}
