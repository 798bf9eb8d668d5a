using Microsoft.AspNetCore.Builder;
using Sidecar.Tests;

namespace Sidecar.StaticWeb.Tests;

/// <summary>
/// The git-sync layout in a temp folder, written by hand: <c>.worktrees/REV</c> folders and a
/// <c>current</c> link, served by a real Kestrel on loopback.
/// </summary>
public sealed partial class SiteFixture(params string[] settings) : IAsyncDisposable
{
    private WebApplication? app;

    /// <summary>The running server's services, to look at its state.</summary>
    public IServiceProvider Services => app!.Services;

    public TempFolder Root { get; } = new("sidecar-site");

    public string LinkPath => Root.Combine("current");

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Writes a revision folder with the given files (path, bytes).</summary>
    public string WriteRevisionBytes(string revision, params (string Path, byte[] Content)[] files)
    {
        var folder = Root.Combine(".worktrees", revision);
        foreach (var (path, content) in files)
        {
            var full = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, content);
        }
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Writes a revision folder with the given files (path, content).</summary>
    public string WriteRevision(string revision, params (string Path, string Content)[] files) =>
        WriteRevisionBytes(revision, [.. files.Select(f => (f.Path, System.Text.Encoding.UTF8.GetBytes(f.Content)))]);

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
        app = StaticWebApp.Build(["--root", LinkPath, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning",
            // A full compacting collection of the test process at every start would only slow the suite; NativeAotTests covers it.
            "--StaticWeb:ReleaseStartupMemory=false", .. settings]);
        await app.StartAsync();
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    /// <summary>
    /// Sends a request as written, over a raw socket: HttpClient normalises dot segments and some
    /// escapes, this does not. Returns the status and the whole response text.
    /// </summary>
    public async Task<(int Status, string Response)> RawAsync(string method, string target, string extraHeaders = "", string body = "")
    {
        var address = Client.BaseAddress!;
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(address.Host, address.Port);
        await using var stream = client.GetStream();
        var request = $"{method} {target} HTTP/1.1\r\nHost: {address.Authority}\r\n{extraHeaders}Connection: close\r\n\r\n{body}";
        await stream.WriteAsync(System.Text.Encoding.Latin1.GetBytes(request));
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        Assert.True(response.StartsWith("HTTP/1.1 "), $"no HTTP response to {method} {target}: '{response}'");
        return (int.Parse(response.AsSpan(9, 3)), response);
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
