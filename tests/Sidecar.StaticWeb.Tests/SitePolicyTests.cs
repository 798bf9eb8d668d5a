using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Sidecar.StaticWeb.Tests;

/// <summary>The defaults: Cache-Control by kind of file, content types, unknown types, security headers, the site's 404 page.</summary>
[Trait("Category", "InProcess")]
public sealed class SitePolicyTests : IAsyncLifetime
{
    private readonly SiteFixture site = new();

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1",
            ("index.html", "<h1>home</h1>"),
            ("app.3f2a9c1e.js", "fingerprinted()"),
            ("app.js", "plain()"),
            ("404.html", "<h1>custom not found</h1>"),
            ("module.mjs", "export {}"),
            ("site.webmanifest", "{}"),
            ("font.woff2", "w"),
            ("prog.wasm", "w"),
            ("photo.avif", "a"),
            ("data.unknownext", "bytes"),
            ("empty/keep.unknownext", "x"));
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Theory]
    [InlineData("/", "no-cache")]
    [InlineData("/index.html", "no-cache")]
    [InlineData("/app.js", "public, max-age=300")]
    [InlineData("/app.3f2a9c1e.js", "public, max-age=31536000, immutable")]
    public async Task CacheControlDependsOnTheKindOfFile(string path, string expected)
    {
        using var response = await site.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Headers.CacheControl!.ToString());
    }

    [Theory]
    [InlineData("/module.mjs", "text/javascript")]
    [InlineData("/app.js", "text/javascript")]
    [InlineData("/site.webmanifest", "application/manifest+json")]
    [InlineData("/font.woff2", "font/woff2")]
    [InlineData("/prog.wasm", "application/wasm")]
    [InlineData("/photo.avif", "image/avif")]
    [InlineData("/index.html", "text/html")]
    public async Task WebTypesAreKnown(string path, string expected)
    {
        using var response = await site.Client.GetAsync(path);

        Assert.Equal(expected, response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task AnUnknownTypeIsNotServedByDefault()
    {
        using var response = await site.Client.GetAsync("/data.unknownext");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task EveryResponseCarriesTheSecurityHeadersButNoCspByDefault()
    {
        using var file = await site.Client.GetAsync("/app.js");
        using var missing = await site.Client.GetAsync("/missing");

        foreach (var response in new[] { file, missing })
        {
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("strict-origin-when-cross-origin", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
            Assert.False(response.Headers.Contains("Content-Security-Policy"));
            Assert.False(response.Headers.Contains("Server"));
        }
    }

    [Fact]
    public async Task TheSites404PageIsTheBodyOfA404()
    {
        using var response = await site.Client.GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("<h1>custom not found</h1>", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("rev1", Assert.Single(response.Headers.GetValues("X-Content-Revision")));
    }

    [Fact]
    public async Task ADirectoryWithoutIndexIsNotListedByDefault()
    {
        using var response = await site.Client.GetAsync("/empty/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("keep", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>The options that change the defaults: unknown types, CSP, Cache-Control, index files, listing, SPA fallback.</summary>
[Trait("Category", "InProcess")]
public sealed class SiteOptionsTests : IAsyncLifetime
{
    private readonly SiteFixture site = new(
        "--StaticWeb:ServeUnknownFileTypes=true",
        "--StaticWeb:ContentSecurityPolicy=default-src 'self'",
        "--StaticWeb:ReferrerPolicy=",
        "--StaticWeb:CacheControl=public, max-age=60",
        "--StaticWeb:IndexFiles:0=default.htm",
        "--StaticWeb:IndexFiles:1=index.html",
        "--StaticWeb:DirectoryListing=true",
        "--StaticWeb:SpaFallback=app/index.html",
        "--StaticWeb:NotFoundPage=",
        "--StaticWeb:ContentTypes:.custom=text/x-custom",
        "--StaticWeb:InlineSocketScheduling=true");

    public async Task InitializeAsync()
    {
        site.WriteRevision("rev1",
            ("index.html", "<h1>index</h1>"),
            ("default.htm", "<h1>default</h1>"),
            ("app/index.html", "<div id=app></div>"),
            ("404.html", "custom 404 that is turned off"),
            ("data.unknownext", "bytes"),
            ("thing.custom", "custom"),
            ("files/b.txt", "b"),
            ("files/a & <b>.txt", "a"),
            ("files/.secret", "hidden"),
            ("files/sub/x.txt", "x"));
        File.CreateSymbolicLink(site.Root.Combine(".worktrees", "rev1", "files", "out.txt"), "/etc/hostname");
        site.Publish("rev1");
        await site.StartAsync();
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    [Fact]
    public async Task UnknownTypesAreServedAsOctetStreamWhenEnabled()
    {
        using var unknown = await site.Client.GetAsync("/data.unknownext");
        using var custom = await site.Client.GetAsync("/thing.custom");

        Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
        Assert.Equal("application/octet-stream", unknown.Content.Headers.ContentType!.MediaType);
        Assert.Equal("text/x-custom", custom.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task TheHeadersFollowTheOptions()
    {
        using var response = await site.Client.GetAsync("/thing.custom");

        Assert.Equal("default-src 'self'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.False(response.Headers.Contains("Referrer-Policy"));
        Assert.Equal("public, max-age=60", response.Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task InlineSocketSchedulingReachesKestrelAndStillServes()
    {
        var sockets = site.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.True(sockets.UnsafePreferInlineScheduling);
        Assert.Equal("custom", await site.Client.GetStringAsync("/thing.custom"));
    }

    [Fact]
    public async Task TheSocketDefaultsServeFromTheIoThreadWithoutZeroByteReads()
    {
        await using var defaults = new SiteFixture();
        defaults.WriteRevision("rev1", ("a.txt", "from memory"), ("big.txt", new string('x', 4096)));
        defaults.Publish("rev1");
        await defaults.StartAsync();
        var sockets = defaults.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.True(sockets.UnsafePreferInlineScheduling);
        Assert.False(sockets.WaitForDataBeforeAllocatingBuffer);
        // A miss (read from disk on the thread pool), then a hit (from memory on the socket thread).
        Assert.Equal("from memory", await defaults.Client.GetStringAsync("/a.txt"));
        Assert.Equal("from memory", await defaults.Client.GetStringAsync("/a.txt"));
        Assert.Equal(4096, (await defaults.Client.GetByteArrayAsync("/big.txt")).Length);
    }

    [Fact]
    public async Task InlineSchedulingAndZeroByteReadsCanBeSwitched()
    {
        await using var other = new SiteFixture("--StaticWeb:InlineSocketScheduling=false", "--StaticWeb:WaitForDataBeforeAllocatingBuffer=true");
        other.WriteRevision("rev1", ("a.txt", "pooled"));
        other.Publish("rev1");
        await other.StartAsync();
        var sockets = other.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.False(sockets.UnsafePreferInlineScheduling);
        Assert.True(sockets.WaitForDataBeforeAllocatingBuffer);
        Assert.Equal("pooled", await other.Client.GetStringAsync("/a.txt"));
    }

    [Fact]
    public async Task IndexFilesAreTriedInOrder()
    {
        Assert.Equal("<h1>default</h1>", await site.Client.GetStringAsync("/"));
    }

    [Fact]
    public async Task AListingShowsEntriesEncodedButNotHiddenOnesOrEscapingLinks()
    {
        using var response = await site.Client.GetAsync("/files/");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<a href=\"sub/\">sub/</a>", page);
        Assert.Contains("<a href=\"b.txt\">b.txt</a>", page);
        Assert.Contains("<a href=\"a%20%26%20%3Cb%3E.txt\">a &amp; &lt;b&gt;.txt</a>", page);
        Assert.DoesNotContain(".secret", page);
        Assert.DoesNotContain("out.txt", page);
    }

    [Fact]
    public async Task TheSpaFallbackServesPathsWithoutAnExtension()
    {
        using var route = await site.Client.GetAsync("/users/42/settings");
        using var asset = await site.Client.GetAsync("/missing.js");

        Assert.Equal(HttpStatusCode.OK, route.StatusCode);
        Assert.Equal("<div id=app></div>", await route.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, asset.StatusCode);
        Assert.Equal("Not Found\n", await asset.Content.ReadAsStringAsync());
    }
}
