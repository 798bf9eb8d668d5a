using Microsoft.AspNetCore.Builder;
using Sidecar.Tests;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The git-sync layout in a temp folder, written by hand: <c>.worktrees/REV</c> folders and a
/// <c>current</c> link, served by a real Kestrel on loopback.
/// </summary>
public sealed partial class SiteFixture : IAsyncDisposable
{
    private WebApplication? app;

    public TempFolder Root { get; } = new("sidecar-site");

    public string LinkPath => Root.Combine("current");

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Writes a revision folder with the given files (path, content).</summary>
    public string WriteRevision(string revision, params (string Path, string Content)[] files)
    {
        var folder = Root.Combine(".worktrees", revision);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, content);
        }
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Points the link at a revision the way the sidecar does: a new link renamed over the old one.</summary>
    public void Publish(string revision)
    {
        var temporary = Root.Combine($".tmp-link-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(temporary, Path.Combine(".worktrees", revision));
        // File.Move refuses a link to a directory; rename(2) is what the sidecar uses.
        Assert.Equal(0, rename(temporary, LinkPath));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int rename(string oldPath, string newPath);

    public async Task StartAsync()
    {
        app = StaticWebApp.Build(["--root", LinkPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        await app.StartAsync();
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Root.Dispose();
    }
}
